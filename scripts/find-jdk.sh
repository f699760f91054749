# Sourced by ./ltm, ./run-tests and .ci/run: exports JAVA_HOME pointing at a JDK >= 25.
# Looks at $JAVA_HOME first, then every /usr/lib/jvm/* (newest first); fails with one line if none fits.
ltm_jdk_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
ltm_find_jdk() {
  local candidate major
  for candidate in ${JAVA_HOME:+"$JAVA_HOME"} $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    candidate=${candidate%/}
    [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(ltm_jdk_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      export JAVA_HOME="$candidate"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "ltm: no JDK >= 25 found (looked at \$JAVA_HOME and /usr/lib/jvm/*); install Temurin 25" >&2
  return 1
}
