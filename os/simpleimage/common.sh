# Sourced by the simpleimage OS scripts: finds the simpleimage binary and
# execs it with the action name. Ganeti replaces the environment, so the
# binary is looked up, in order:
#   1. ./simpleimage next to these scripts (a copy or a symlink),
#   2. the path written in ./simpleimage.path at install time
#      (e.g. `echo /opt/ganeti-rs/bin/simpleimage > simpleimage.path`),
#   3. simpleimage in Ganeti's PATH (/sbin:/bin:/usr/sbin:/usr/bin).
# The per-variant config lives in /etc/ganeti/instance-simpleimage unless
# ./simpleimage.configdir (written at install time for another sysconfdir)
# names another directory.
simpleimage_exec() {
  dir=$(dirname "$0")
  if [ -x "$dir/simpleimage" ]; then
    bin=$dir/simpleimage
  elif [ -r "$dir/simpleimage.path" ]; then
    bin=$(head -n 1 "$dir/simpleimage.path")
  else
    bin=$(command -v simpleimage) || {
      echo "simpleimage: binary not found (see $dir/common.sh)" >&2
      exit 1
    }
  fi
  SIMPLEIMAGE_OS_DIR=$dir
  export SIMPLEIMAGE_OS_DIR
  if [ -r "$dir/simpleimage.configdir" ]; then
    SIMPLEIMAGE_CONFIG_DIR=$(head -n 1 "$dir/simpleimage.configdir")
    export SIMPLEIMAGE_CONFIG_DIR
  fi
  exec "$bin" "$@"
}
