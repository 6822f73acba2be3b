# shellcheck shell=bash
# Finds a Java >= 21 for Haven. Sourced by bin/haven and by the build scripts at the
# repository root. Order: $JAVA_HOME, then `java` on PATH, then the usual install folders.
# On success sets HAVEN_JAVA_HOME, HAVEN_JAVA and HAVEN_JAVA_MAJOR; with HAVEN_NEED_JDK=1 also requires javac.
# On failure prints what it tried and returns 1.
# Every command runs this, so it starts no process per candidate: a JDK's `release` file is
# read with shell built-ins (a sed, head and two dirname per candidate cost 25 ms on a small
# machine where four Java 17 folders come before the Java 25 one).

haven_java_major() {
  # Sets HAVEN_MAJOR to the feature version (e.g. 25) of the java binary $1, or to nothing.
  # The JDK's `release` file says it without starting a JVM (about 0.1 s per candidate on a
  # small machine); without that file the binary is asked.
  local release="${1%/*}/../release" line v
  HAVEN_MAJOR=
  if [ -r "$release" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in
        JAVA_VERSION=*)
          v=${line#JAVA_VERSION=}; v=${v#\"}; v=${v%%\"*}
          case "$v" in
            1.*) v=${v#1.}; HAVEN_MAJOR=${v%%[._]*} ;;
            [0-9]*) v=${v%%[!0-9]*}; HAVEN_MAJOR=$v ;;
          esac
          case "$HAVEN_MAJOR" in ''|*[!0-9]*) HAVEN_MAJOR= ;; *) return 0 ;; esac
          ;;
      esac
    done < "$release"
  fi
  HAVEN_MAJOR=$("$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9.]*\).*/\1/p' | head -n 1 | cut -d. -f1)
}

haven_find_java() {
  local min=21 candidates=() c home tried=() onpath
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  if onpath=$(command -v java 2>/dev/null) && [ -n "$onpath" ]; then
    # /usr/bin/java is usually a chain of links to the JDK's bin/java, next to its release file
    if [ -L "$onpath" ]; then
      onpath=$(readlink -f "$onpath" 2>/dev/null) || onpath=
    fi
    [ -n "$onpath" ] && candidates+=("$onpath")
  fi
  for c in /usr/lib/jvm/*/bin/java /usr/java/*/bin/java /opt/java/*/bin/java /opt/jdk*/bin/java \
           /usr/local/lib/jvm/*/bin/java /Library/Java/JavaVirtualMachines/*/Contents/Home/bin/java; do
    [ -x "$c" ] && candidates+=("$c")
  done
  for c in ${candidates[@]+"${candidates[@]}"}; do
    [ -x "$c" ] || continue
    home=${c%/bin/java}
    [ "$home" = "$c" ] && home=${c%/*}/..
    if [ "${HAVEN_NEED_JDK:-0}" = 1 ] && [ ! -x "$home/bin/javac" ]; then
      tried+=("$c (no javac: a JRE, not a JDK)"); continue
    fi
    haven_java_major "$c"
    if [ -n "$HAVEN_MAJOR" ] && [ "$HAVEN_MAJOR" -ge "$min" ]; then
      HAVEN_JAVA_HOME=$home
      HAVEN_JAVA=$c
      HAVEN_JAVA_MAJOR=$HAVEN_MAJOR
      return 0
    fi
    tried+=("$c (Java ${HAVEN_MAJOR:-unknown})")
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
