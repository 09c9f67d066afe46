#!/bin/sh
# Installs the iotspot auth plugin for Debian's HTTPie (the httpie package), offline: no pip,
# no network. Afterwards: http --auth-type=iotspot [-a PROFILE] URL
#
#   plugins/httpie/install.sh              for you: HTTPie's own plugin directory,
#                                          ~/.config/httpie/plugins/... (where `httpie cli
#                                          plugins install` puts plugins)
#   sudo plugins/httpie/install.sh --system
#                                          for every user: /usr/local/lib/python3.X/dist-packages
#   plugins/httpie/install.sh --uninstall [--system]
#
# The plugin is one module, httpie_iotspot.py, with a minimal .dist-info whose entry_points.txt
# registers it under httpie.plugins.auth.v1, the entry point HTTPie 3 loads auth plugins from.
# Running it again replaces the installed copy. Re-run it after Debian moves to a new Python
# version (the directory names the version). See docs/integrations.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
name=httpie_iotspot
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$here/$name.py")

scope=user
action=install
for arg in "$@"; do
    case $arg in
    --system) scope=system ;;
    --uninstall) action=uninstall ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done

if ! "$python" -c 'import httpie' 2>/dev/null; then
    echo "install.sh: Debian's HTTPie is not installed; install it first: sudo apt-get install httpie" >&2
    exit 1
fi

if [ "$scope" = system ]; then
    # Debian's scheme for local installs: /usr/local/lib/python3.X/dist-packages, on sys.path.
    if ! target=$("$python" -c '
import sys, sysconfig
target = sysconfig.get_path("purelib", vars={"base": "/usr", "platbase": "/usr"})
if target not in sys.path:
    sys.exit("install.sh: %s is not on the path of %s" % (target, sys.executable))
print(target)'); then
        exit 1
    fi
    umask 022
else
    # Exactly the directory HTTPie adds to sys.path for plugins (honours HTTPIE_CONFIG_DIR).
    target=$("$python" -c 'from httpie.context import Environment; from httpie.utils import as_site; print(as_site(Environment().config.plugins_dir))')
    umask 077
fi

rm -rf "$target/$name".py "$target/__pycache__/$name".* "$target/$name"-*.dist-info
if [ "$action" = uninstall ]; then
    echo "install.sh: removed the iotspot HTTPie plugin from $target"
    exit 0
fi

mkdir -p "$target/$name-$version.dist-info"
cp "$here/$name.py" "$target/$name.py"
chmod 644 "$target/$name.py"
info="$target/$name-$version.dist-info"
cat >"$info/METADATA" <<EOF
Metadata-Version: 2.1
Name: httpie-iotspot
Version: $version
Summary: HTTPie auth plugin: bearer tokens from iotspot-helper
EOF
cat >"$info/entry_points.txt" <<EOF
[httpie.plugins.auth.v1]
$name = $name:IotspotAuthPlugin
EOF
echo "$name" >"$info/top_level.txt"
echo "iotspot-helper plugins/httpie/install.sh" >"$info/INSTALLER"
cat >"$info/RECORD" <<EOF
$name.py,,
$name-$version.dist-info/METADATA,,
$name-$version.dist-info/entry_points.txt,,
$name-$version.dist-info/top_level.txt,,
$name-$version.dist-info/INSTALLER,,
$name-$version.dist-info/RECORD,,
EOF
chmod 644 "$info"/*

# Check that HTTPie now finds the auth type, the way it looks for it.
if [ "$scope" = system ]; then
    check_dir=None
else
    check_dir="Environment().config.plugins_dir"
fi
if ! "$python" -c "
from httpie.context import Environment
from httpie.plugins.registry import plugin_manager
plugin_manager.load_installed_plugins($check_dir)
assert 'iotspot' in plugin_manager.get_auth_plugin_mapping()
" 2>/dev/null; then
    echo "install.sh: installed into $target, but HTTPie does not find the iotspot auth type there" >&2
    exit 1
fi
echo "install.sh: installed the iotspot HTTPie plugin into $target"
echo "  try: http --auth-type=iotspot https://api.iotspot.co/..."
