# shellcheck shell=bash
# Finds a Java >= 21 for Haven. Sourced by bin/haven and by the build scripts at the
# repository root. Order: $JAVA_HOME, then `java` on PATH, then the usual install folders.
# On success sets HAVEN_JAVA_HOME, HAVEN_JAVA and HAVEN_JAVA_MAJOR; with HAVEN_NEED_JDK=1 also requires javac.
# On failure prints what it tried and returns 1.

haven_java_major() {
  # Prints the feature version (e.g. 25) of the java binary $1, or nothing. The JDK's
  # `release` file says it without starting a JVM (about 0.1 s per candidate on a small
  # machine, paid by every command); without that file the binary is asked.
  local release v
  release="$(dirname "$1")/../release"
  if [ -r "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9._]*\).*/\1/p' "$release" | head -n 1)
    case "$v" in
      1.*) v=${v#1.}; echo "${v%%[._]*}"; return 0 ;;
      [0-9]*) echo "${v%%[._]*}"; return 0 ;;
    esac
  fi
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9.]*\).*/\1/p' | head -n 1 | cut -d. -f1
}

haven_find_java() {
  local min=21 candidates=() c home major tried=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(readlink -f "$(command -v java)")")
  fi
  for c in /usr/lib/jvm/*/bin/java /usr/java/*/bin/java /opt/java/*/bin/java /opt/jdk*/bin/java \
           /usr/local/lib/jvm/*/bin/java /Library/Java/JavaVirtualMachines/*/Contents/Home/bin/java; do
    [ -x "$c" ] && candidates+=("$c")
  done
  for c in ${candidates[@]+"${candidates[@]}"}; do
    [ -x "$c" ] || continue
    home=$(cd "$(dirname "$c")/.." && pwd)
    if [ "${HAVEN_NEED_JDK:-0}" = 1 ] && [ ! -x "$home/bin/javac" ]; then
      tried+=("$c (no javac: a JRE, not a JDK)"); continue
    fi
    major=$(haven_java_major "$c")
    if [ -n "$major" ] && [ "$major" -ge "$min" ]; then
      HAVEN_JAVA_HOME=$home
      HAVEN_JAVA=$c
      HAVEN_JAVA_MAJOR=$major
      return 0
    fi
    tried+=("$c (Java ${major:-unknown})")
  done
  {
    echo "haven: no Java $min or newer found."
    if [ ${#tried[@]} -gt 0 ]; then
      echo "  tried:"; printf '    %s\n' "${tried[@]}"
    else
      echo "  tried: \$JAVA_HOME, java on PATH, /usr/lib/jvm, /usr/java, /opt/java"
    fi
    echo "  Install a JDK $min+ (for example: apt-get install openjdk-21-jdk, or Temurin)"
    echo "  and/or set JAVA_HOME to it."
  } >&2
  return 1
}
