# Sourced by the scripts that install what they need on Debian/Ubuntu. The caller defines
# die (prints its message and exits).

is_root() { [[ $(id -u) -eq 0 ]]; }

# apt_install PACKAGE...: installs with apt-get, through sudo when not root.
apt_install() {
    local sudo=()
    command -v apt-get >/dev/null 2>&1 ||
        die "missing packages ($*) and no apt-get; install them with your package manager"
    if ! is_root; then
        command -v sudo >/dev/null 2>&1 || die "installing $* needs root or sudo"
        sudo=(sudo)
    fi
    echo "installing $* (apt-get)" >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
