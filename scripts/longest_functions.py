#!/usr/bin/env python3
"""Longest functions (func/init bodies, lines from declaration to closing brace) under a folder."""
import re, sys, pathlib
root = pathlib.Path(sys.argv[1]); top = int(sys.argv[2]) if len(sys.argv) > 2 else 5
decl = re.compile(r'^\s*(?:@\w+\s+)*(?:(?:public|private|fileprivate|internal|static|class|override|mutating|final|@discardableResult)\s+)*(?:func\s+\w+|init\??)\s*[(<]')
rows = []
for f in sorted(root.rglob('*.swift')):
    lines = f.read_text().split('\n')
    i = 0
    while i < len(lines):
        if decl.match(lines[i]):
            depth, started, j = 0, False, i
            while j < len(lines):
                s = re.sub(r'"(?:\\.|[^"\\])*"', '""', lines[j].split('//')[0])
                depth += s.count('{') - s.count('}')
                if s.count('{'): started = True
                if started and depth <= 0: break
                j += 1
            rows.append((j - i + 1, f"{f}:{i+1}", lines[i].strip()[:90]))
        i += 1
for n, where, d in sorted(rows, reverse=True)[:top]: print(n, where, d)
