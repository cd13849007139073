#!/bin/bash
# builds $1.tex with pdflatex (index when \makeindex), reproducibly
set -e
f=$1
export SOURCE_DATE_EPOCH=1700000000 FORCE_SOURCE_DATE=1
pdflatex -interaction=nonstopmode $f.tex >/dev/null || true
[ -f $f.idx ] && makeindex -q $f || true
pdflatex -interaction=nonstopmode $f.tex >/dev/null || true
pdflatex -interaction=nonstopmode $f.tex | tail -1
