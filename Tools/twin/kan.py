"""KAN convolutions of the PyTorch twin: one scalar KAN (9 inputs → 1) applied to every 3×3 patch of
every channel (after the reference's KAN_Conv/convolution.py `kan_conv2d`: nn.Unfold, zero padding 1).

Three KAN types, with the reference's parameter names under `convs.0.conv.`:
- chebyshev (ChebyshevKANLinear, normalization "tanh", skip_activation): `base_linear.weight` (1,9),
  `polynomial_weight` (1,9,D+1), `scaler` (1,9) (815a357:KAN_Conv/chebyshevkan.py names and init;
  `chebyshev_weight` / `chebyshev_scaler` before).
- rbf (FastKANLayer as KAN_Convolution builds it: grid [-1, 1], use_base_update, skip_activation,
  no LayerNorm): `rbf.grid` (G), `spline_linear.weight` (1, 9·G), `base_linear.weight` (1,9),
  `base_linear.bias` (1). y = spline_linear(exp(−((p − grid)/h)²)) + base_linear(p), h = 2/(G−1).
  The reference keeps the grid as a frozen nn.Parameter; here it is a buffer (same key, not trained).
- b_spline (KANLinear: grid [-1, 1], skip_activation): `base_weight` (1,9), `spline_weight`
  (1, 9, G+K), `spline_scaler` (1,9), buffer `grid` (9, G+2K+1). y = p·base + B(p)·(spline·scaler).

thop counts only hooked leaf modules: chebyshev → base_linear (9 params), rbf → base_linear (10;
SplineLinear is a subclass thop does not recognise), b_spline → nothing.
"""
import torch
import torch.nn as nn

# rbf / b_spline grid sizes of (kan_conv1, kan_conv2): the reference passes grid_size = (3, 2)
# (fe63108:residual_networks/RKAN_ResNet.py and every RKAN class with a grid_size argument; notebook
# 22e50367 sets it); RKAN_SENet.py and RKAN_ResNet_D.py (815a357) pass none, so both convs take
# KAN_Convolutional_Layer's default grid_size = 3 (a160c7b:KAN_Conv/KANConv.py).
GRIDS = (3, 2)
GRIDS_WITHOUT_ARGUMENT = (3, 3)


class ChebyshevKAN(nn.Module):
    """y = p·base + Σ_i Σ_n cheb[0,i,n]·scaler[0,i]·T_n(tanh p_i)."""

    def __init__(self, inputs=9, degree=3):
        super().__init__()
        self.degree = degree
        self.base_linear = nn.Linear(inputs, 1, bias=False)
        nn.init.kaiming_normal_(self.base_linear.weight, nonlinearity="relu")
        self.polynomial_weight = nn.Parameter(torch.randn(1, inputs, degree + 1) / (inputs * (degree + 1)) ** 0.5)
        self.scaler = nn.Parameter(torch.ones(1, inputs))

    def forward(self, p):                      # p: (R, 9) -> (R, 1)
        t = torch.tanh(p)
        basis = [torch.ones_like(t), t]
        for _ in range(2, self.degree + 1):
            basis.append(2 * t * basis[-1] - basis[-2])
        basis = torch.stack(basis[: self.degree + 1], dim=-1)                        # (R, 9, D+1)
        w = self.polynomial_weight * self.scaler.unsqueeze(-1)                      # (1, 9, D+1)
        return self.base_linear(p) + basis.flatten(1) @ w.flatten(1).t()


class SplineLinear(nn.Linear):
    """nn.Linear without bias, a distinct type (so thop, which matches exact types, skips it)."""

    def __init__(self, inputs, outputs):
        super().__init__(inputs, outputs, bias=False)
        nn.init.trunc_normal_(self.weight, std=1.0)


class RadialBasis(nn.Module):
    """Gaussian bumps on `grids` evenly spaced centres in [lo, hi], width h = (hi − lo)/(grids − 1)."""

    def __init__(self, lo=-1.0, hi=1.0, grids=3):
        super().__init__()
        self.register_buffer("grid", torch.linspace(lo, hi, grids))
        self.denominator = (hi - lo) / (grids - 1)

    def forward(self, p):                      # (R, 9) -> (R, 9, G)
        return torch.exp(-((p[..., None] - self.grid) / self.denominator) ** 2)


class RBFKAN(nn.Module):
    def __init__(self, inputs=9, grids=3):
        super().__init__()
        self.rbf = RadialBasis(-1.0, 1.0, grids)
        self.spline_linear = SplineLinear(inputs * grids, 1)
        self.base_linear = nn.Linear(inputs, 1)

    def forward(self, p):
        b = self.rbf(p)
        return self.spline_linear(b.view(p.shape[0], -1)) + self.base_linear(p)


class BSplineKAN(nn.Module):
    def __init__(self, inputs=9, grid=3, order=3, lo=-1.0, hi=1.0):
        super().__init__()
        self.order = order
        h = (hi - lo) / grid
        knots = torch.arange(-order, grid + order + 1, dtype=torch.float32) * h + lo
        self.register_buffer("grid", knots.expand(inputs, -1).contiguous())       # (9, G+2K+1)
        bound = 1 / inputs ** 0.5
        self.base_weight = nn.Parameter(torch.empty(1, inputs).uniform_(-bound, bound))
        self.spline_weight = nn.Parameter(torch.empty(1, inputs, grid + order).uniform_(-0.05 / grid, 0.05 / grid))
        self.spline_scaler = nn.Parameter(torch.empty(1, inputs).uniform_(-bound, bound))

    def bases(self, x):                        # (R, 9) -> (R, 9, G+K), Cox–de Boor
        g = self.grid
        x = x.unsqueeze(-1)
        b = ((x >= g[:, :-1]) & (x < g[:, 1:])).to(x.dtype)
        for k in range(1, self.order + 1):
            b = (x - g[:, :-(k + 1)]) / (g[:, k:-1] - g[:, :-(k + 1)]) * b[:, :, :-1] + \
                (g[:, k + 1:] - x) / (g[:, k + 1:] - g[:, 1:-k]) * b[:, :, 1:]
        return b

    def forward(self, p):
        w = (self.spline_weight * self.spline_scaler.unsqueeze(-1)).view(1, -1)
        return nn.functional.linear(p, self.base_weight) + nn.functional.linear(self.bases(p).view(p.shape[0], -1), w)


class KANConvolution(nn.Module):
    """Holds `.conv` (the KAN), so keys read `convs.0.conv.*` as in the reference."""

    def __init__(self, kan="chebyshev", degree=3, grid=3):
        super().__init__()
        if kan == "chebyshev":
            self.conv = ChebyshevKAN(9, degree)
        elif kan == "rbf":
            self.conv = RBFKAN(9, grid)
        elif kan == "b_spline":
            self.conv = BSplineKAN(9, grid, degree)
        else:
            raise ValueError(f"unknown kan type {kan}")


class KANConv2d(nn.Module):
    """Per-channel 3×3 KAN convolution, padding 1: (N, C, H, W) -> (N, C, Ho, Wo), one KAN shared by all channels."""

    def __init__(self, stride, degree=3, kan="chebyshev", grid=3):
        super().__init__()
        self.stride = stride
        self.convs = nn.ModuleList([KANConvolution(kan, degree, grid)])

    def forward(self, x):
        n, c, h, w = x.shape
        ho, wo = (h - 1) // self.stride + 1, (w - 1) // self.stride + 1
        cols = nn.functional.unfold(x, 3, padding=1, stride=self.stride)           # (N, C·9, L)
        rows = cols.view(n, c, 9, ho * wo).transpose(2, 3).reshape(-1, 9)           # (N·C·L, 9)
        return self.convs[0].conv(rows).view(n, c, ho, wo)
