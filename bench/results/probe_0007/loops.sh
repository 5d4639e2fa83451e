#!/bin/bash
# server-side loops of 20,000 single-row INSERTs (half vllm known, half openai): $1 = loop file, rest = databases; 5 rounds interleaved
f=$1; shift
for r in 1 2 3 4 5; do for v in "$@"; do echo "$r $v $(psql -X -q -h 127.0.0.1 -U postgres -d pmn_ws_probe_$v -f "$f" | grep -oP 'Time: \K[0-9.]+' | tail -1)"; done; done | python3 -c "
import sys,collections,statistics as st
d=collections.defaultdict(list)
for l in sys.stdin:
    r,v,t=l.split(); d[v].append(float(t)/20000*1000)
names=list(d); b=d[names[0]]
for v in names: print(f'{v:15s} us/stmt {[round(x,1) for x in d[v]]} median {st.median(d[v]):.1f}, over {names[0]} {st.median([x-y for x,y in zip(d[v],b)]):+.1f}')
"
