#!/usr/bin/env python3
"""compare.py BEFORE_DIR AFTER_DIR: for each seed-*.h5, cmp the bytes; if they differ, compare
every HDF5 dataset and attribute (h5dump text, per object) and name those that differ. Objects
allowed to differ: they record time or place (bench values, epoch_seconds, git_commit, host) or
are digests over them (sha256_bench, sha256_metrics, sha256_attributes). Exit 1 if anything else differs."""
import sys, subprocess, pathlib, re, filecmp
VARY = {'git_commit', 'host', 'sha256_bench', 'sha256_metrics', 'sha256_attributes', 'epoch_seconds', 'train_img_s', 'infer_img_s'}
def objects(path):
    out = subprocess.run(['h5dump', '-e', str(path)], capture_output=True, text=True, check=True).stdout.split('\n')
    objs, stack = {}, []
    for line in out:
        m = re.match(r'^(\s*)(GROUP|DATASET|ATTRIBUTE) "([^"]*)" \{', line)
        if m:
            stack = [s for s in stack if s[0] < len(m.group(1))] + [(len(m.group(1)), m.group(3))]
        if line.startswith('HDF5 "'): continue
        key = '/'.join(s[1] for s in stack)
        objs.setdefault(key, []).append(line.strip())
    return objs
b, a = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]); bad = 0
for f in sorted(b.rglob('seed-*.h5')):
    rel = f.relative_to(b); g = a / rel
    if filecmp.cmp(f, g, shallow=False): print(f'{rel}: identical bytes'); continue
    ob, oa = objects(f), objects(g)
    diff = sorted(k for k in set(ob) | set(oa) if ob.get(k) != oa.get(k))
    leaf = lambda k: k.split('/')[-1]
    unexpected = [k for k in diff if leaf(k) not in VARY and not any(p in VARY for p in k.split('/'))]
    w = lambda o: ''.join(o.get('/weights_sha256', o.get('weights_sha256', ['?'])))
    print(f'{rel}: bytes differ; {len(ob)} objects compared; differing: {", ".join(leaf(k) for k in diff if leaf(k) in VARY) or "none"}'
          + (f'; UNEXPECTED: {unexpected}' if unexpected else '; everything else equal'))
    bad |= bool(unexpected)
sys.exit(bad)
