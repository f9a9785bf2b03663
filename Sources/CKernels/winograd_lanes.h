/* The Winograd transforms on one block of L channels (L = 8 or 16), included by winograd.c once
 * per vector width with V (the vector type), L, LD, ST, RELU and FN (the name suffix) defined.
 * Every lane goes through the same IEEE operations in the same order at either width, so a
 * block of 16 channels gives the bytes of two blocks of 8. */

/* 1-D transforms on 4 (or 2) vectors: B^T x, A^T x, A x. */
INLINE void FN(bt)(V a, V b, V c, V d, V o[4]) { o[0] = a - c; o[1] = b + c; o[2] = c - b; o[3] = b - d; }
INLINE void FN(at)(V a, V b, V c, V d, V o[2]) { o[0] = a + b + c; o[1] = b - c - d; }
INLINE void FN(ax)(V a, V b, V o[4]) { o[0] = a; o[1] = a + b; o[2] = a - b; o[3] = -b; }

/* Stores v at o (an address of the output `out`), through the epilogue when there is one. */
INLINE void FN(put)(float *o, V v, const rkan_epilogue *ep, const float *out, long ch) {
    if (ep) {
        v = (v - LD(ep->mean + ch)) * LD(ep->scale + ch) + LD(ep->shift + ch);
        if (ep->residual) v = v + LD(ep->residual + (o - out));
        if (ep->relu) v = RELU(v);
    }
    ST(o, v);
}

/* F(2x2, 3x3). p: the 16 taps of the tile's window (channel 0); dst: the tile's row of plane 0. */
INLINE void FN(input_block)(float *dst, const float *const *p, long plane, long ch) {
    V q[4][4], o[4];
    for (int r = 0; r < 4; r++)   /* rows of d times B */
        FN(bt)(LD(p[4 * r] + ch), LD(p[4 * r + 1] + ch), LD(p[4 * r + 2] + ch), LD(p[4 * r + 3] + ch), q[r]);
    for (int j = 0; j < 4; j++) {  /* B^T times columns */
        FN(bt)(q[0][j], q[1][j], q[2][j], q[3][j], o);
        for (int i = 0; i < 4; i++) ST(dst + (4 * i + j) * plane + ch, o[i]);
    }
}

/* src: the tile's row of plane 0 of M; base: the tile's first output pixel (channel 0). */
INLINE void FN(output_block)(float *base, const float *src, long plane, const float *bias, const rkan_epilogue *ep,
                             const float *out, long O, long Wo, int right, int down, long ch) {
    const float *p = src + ch;
    V s[4][2], y0[2], y1[2];
    for (int i = 0; i < 4; i++)   /* rows of M times A */
        FN(at)(LD(p + (4 * i) * plane), LD(p + (4 * i + 1) * plane), LD(p + (4 * i + 2) * plane),
               LD(p + (4 * i + 3) * plane), s[i]);
    FN(at)(s[0][0], s[1][0], s[2][0], s[3][0], y0);   /* column 0: (y00, y10) */
    FN(at)(s[0][1], s[1][1], s[2][1], s[3][1], y1);   /* column 1: (y01, y11) */
    if (bias) {
        V b = LD(bias + ch);
        y0[0] += b; y0[1] += b; y1[0] += b; y1[1] += b;
    }
    float *o = base + ch;
    FN(put)(o, y0[0], ep, out, ch);
    if (right) FN(put)(o + O, y1[0], ep, out, ch);
    if (down) {
        FN(put)(o + Wo * O, y0[1], ep, out, ch);
        if (right) FN(put)(o + Wo * O + O, y1[1], ep, out, ch);
    }
}

INLINE void FN(output_grad_block)(float *dst, const float *base, long plane, long O, long Wo, int right, int down,
                                  long ch) {
    const V zero = {0};
    const float *p = base + ch;
    V y00 = LD(p), y01 = right ? LD(p + O) : zero;
    V y10 = down ? LD(p + Wo * O) : zero, y11 = down && right ? LD(p + Wo * O + O) : zero;
    V e0[4], e1[4], o[4];
    FN(ax)(y00, y01, e0);   /* rows of dY times A^T */
    FN(ax)(y10, y11, e1);
    for (int j = 0; j < 4; j++) {
        FN(ax)(e0[j], e1[j], o);
        for (int i = 0; i < 4; i++) ST(dst + (4 * i + j) * plane + ch, o[i]);
    }
}

/* F(4x4, 3x3), points 0, 1, -1, 1/2, -2 and infinity. B^T x for a 6-vector x. */
INLINE void FN(bt6)(const V x[6], V o[6]) {
    o[0] = ((x[0] - x[2] * 2.0f) + x[4]) + (x[3] - x[1]) * 1.5f;
    o[1] = (x[4] - x[1]) + (x[2] * 0.5f + x[3] * 2.5f);
    o[2] = (x[4] + x[1]) + (x[3] * 0.5f - x[2] * 2.5f);
    o[3] = (x[3] - x[1]) * 2.0f + (x[4] - x[2]);
    o[4] = (x[1] - x[3]) * 0.5f + (x[4] - x[2]);
    o[5] = ((x[1] - x[3] * 2.0f) + x[5]) + (x[4] - x[2]) * 1.5f;
}
/* A^T x for a 6-vector x (4 values). */
INLINE void FN(at6)(const V x[6], V o[4]) {
    V t1 = x[1] + x[2], t2 = x[1] - x[2];
    o[0] = (x[0] + t1) + (x[3] + x[4]);
    o[1] = t2 + (x[3] * 0.5f - x[4] * 2.0f);
    o[2] = t1 + (x[3] * 0.25f + x[4] * 4.0f);
    o[3] = (t2 + (x[3] * 0.125f - x[4] * 8.0f)) + x[5];
}
/* A x for a 4-vector x (6 values). */
INLINE void FN(ax6)(const V y[4], V o[6]) {
    V e = y[0] + y[2], f = y[1] + y[3];
    o[0] = y[0]; o[1] = e + f; o[2] = e - f;
    o[3] = (y[0] + y[2] * 0.25f) + (y[1] * 0.5f + y[3] * 0.125f);
    o[4] = (y[0] + y[2] * 4.0f) - (y[1] * 2.0f + y[3] * 8.0f);
    o[5] = y[3];
}

INLINE void FN(input4_block)(float *dst, const float *const *p, long plane, long ch) {
    V q[6][6], col[6], o[6];
    for (int r = 0; r < 6; r++) {   /* rows of d times B */
        V row[6];
        for (int c = 0; c < 6; c++) row[c] = LD(p[6 * r + c] + ch);
        FN(bt6)(row, q[r]);
    }
    for (int j = 0; j < 6; j++) {   /* B^T times columns */
        for (int r = 0; r < 6; r++) col[r] = q[r][j];
        FN(bt6)(col, o);
        for (int i = 0; i < 6; i++) ST(dst + (6 * i + j) * plane + ch, o[i]);
    }
}

INLINE void FN(output4_block)(float *base, const float *src, long plane, const float *bias, const rkan_epilogue *ep,
                              const float *out, long O, long Wo, long rows, long cols, long ch) {
    const float *p = src + ch;
    V s[6][4], col[6], y[4];
    for (int i = 0; i < 6; i++) {   /* rows of M times A */
        V row[6];
        for (int j = 0; j < 6; j++) row[j] = LD(p + (6 * i + j) * plane);
        FN(at6)(row, s[i]);
    }
    V b = {0};
    if (bias) b = LD(bias + ch);
    for (long j = 0; j < cols; j++) {   /* A^T times columns */
        for (int i = 0; i < 6; i++) col[i] = s[i][j];
        FN(at6)(col, y);
        for (long r = 0; r < rows; r++) FN(put)(base + (r * Wo + j) * O + ch, bias ? y[r] + b : y[r], ep, out, ch);
    }
}

INLINE void FN(output_grad4_block)(float *dst, const float *base, long plane, long O, long Wo, long rows, long cols,
                                   long ch) {
    const V zero = {0};
    V e[4][6], col[4], o[6];
    for (int r = 0; r < 4; r++) {   /* rows of dY times A^T */
        V row[4];
        for (int c = 0; c < 4; c++) row[c] = (r < rows && c < cols) ? LD(base + (r * Wo + c) * O + ch) : zero;
        FN(ax6)(row, e[r]);
    }
    for (int j = 0; j < 6; j++) {   /* A times columns */
        for (int r = 0; r < 4; r++) col[r] = e[r][j];
        FN(ax6)(col, o);
        for (int i = 0; i < 6; i++) ST(dst + (6 * i + j) * plane + ch, o[i]);
    }
}

/* Weight transforms. G x for a 3-vector (alpha = m + 2 outputs) and G^T x for an alpha-vector
 * (G in Winograd.swift); the order of every operation is fixed (no reassociation, no fusion). */
INLINE void FN(gx)(int m, V a, V b, V c, V *o) {
    if (m == 2) {
        o[0] = a; o[1] = 0.5f * (a + b + c); o[2] = 0.5f * (a - b + c); o[3] = c;
    } else {
        const float k3 = 1.0f / 3.0f, k15 = 1.0f / 15.0f;
        const V s = a + c;
        o[0] = a;
        o[1] = k3 * (s + b);
        o[2] = k3 * (b - s);
        o[3] = -k15 * ((16.0f * a + 8.0f * b) + 4.0f * c);
        o[4] = k15 * ((a + 4.0f * c) - 2.0f * b);
        o[5] = c;
    }
}

INLINE void FN(gtx)(int m, const V *x, int stride, V *o) {
    if (m == 2) {
        const V h = 0.5f * (x[stride] + x[2 * stride]), k = 0.5f * (x[stride] - x[2 * stride]);
        o[0] = x[0] + h; o[1] = k; o[2] = h + x[3 * stride];
        return;
    }
    const float k3 = 1.0f / 3.0f, k15 = 1.0f / 15.0f;
    const V x3 = x[3 * stride], x4 = x[4 * stride];
    const V s12 = x[stride] + x[2 * stride], d12 = x[stride] - x[2 * stride];
    o[0] = x[0] + k3 * d12 + k15 * (x4 - 16.0f * x3);
    o[1] = k3 * s12 - k15 * (8.0f * x3 + 2.0f * x4);
    o[2] = (k3 * d12 + k15 * (4.0f * x4 - 4.0f * x3)) + x[5 * stride];
}

/* u[xi][o][ch..] from w (O, 3, 3, C) for one output channel o. */
INLINE void FN(weights_block)(float *u, const float *w, long o, long C, long plane, int m, int flipped, long ch) {
    const int a = m + 2;
    V g[9], h[18], row[6];
    for (int kh = 0; kh < 3; kh++)
        for (int kw = 0; kw < 3; kw++) {
            int sh = flipped ? 2 - kh : kh, sw = flipped ? 2 - kw : kw;
            g[3 * kh + kw] = LD(w + ((o * 3 + sh) * 3 + sw) * C + ch);
        }
    for (int kw = 0; kw < 3; kw++) {   /* G times each column */
        FN(gx)(m, g[kw], g[3 + kw], g[6 + kw], row);
        for (int i = 0; i < a; i++) h[3 * i + kw] = row[i];
    }
    for (int i = 0; i < a; i++) {      /* each row times G^T */
        FN(gx)(m, h[3 * i], h[3 * i + 1], h[3 * i + 2], row);
        for (int j = 0; j < a; j++) ST(u + (a * i + j) * plane + o * C + ch, row[j]);
    }
}

/* g: dw of one output channel (3, 3, C); src: du of that channel in plane 0. */
INLINE void FN(weight_grad_block)(float *g, const float *src, long C, long plane, int m, int accumulate, long ch) {
    const int a = m + 2;
    V x[36], f[18], c3[3];
    for (int xi = 0; xi < a * a; xi++) x[xi] = LD(src + xi * plane + ch);
    for (int i = 0; i < a; i++) {      /* each row times G */
        FN(gtx)(m, x + a * i, 1, c3);
        f[3 * i] = c3[0]; f[3 * i + 1] = c3[1]; f[3 * i + 2] = c3[2];
    }
    for (int kw = 0; kw < 3; kw++) {   /* G^T times each column */
        FN(gtx)(m, f + kw, 3, c3);
        float *q0 = g + kw * C + ch, *q1 = g + (3 + kw) * C + ch, *q2 = g + (6 + kw) * C + ch;
        if (accumulate) { ST(q0, LD(q0) + c3[0]); ST(q1, LD(q1) + c3[1]); ST(q2, LD(q2) + c3[2]); }
        else { ST(q0, c3[0]); ST(q1, c3[1]); ST(q2, c3[2]); }
    }
}
