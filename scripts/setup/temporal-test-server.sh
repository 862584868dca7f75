#!/usr/bin/env bash
# Step: Temporal's time-skipping test server, for the fast workflow tests (npm run test:unit).
# @temporalio/testing downloads a native build of it, which cannot work here; the same server is
# published on Maven Central as io.temporal:temporal-test-server, so Maven fetches it (and its
# dependencies) into .tools/temporal-test-server/ and a wrapper runs it with the machine's Java.
# Optional for using OpsGuard: without Java or Maven, those tests say loudly that they did not run.
STEP=temporal-test-server
source "$(dirname "$0")/common.sh"

VERSION="${OPSGUARD_TEST_SERVER_VERSION:-1.31.0}"
HOME_DIR="$TOOLS_DIR/temporal-test-server"
WRAPPER="$TOOLS_DIR/bin/temporal-test-server"

if [ -x "$WRAPPER" ] && [ "$(cat "$HOME_DIR/VERSION" 2>/dev/null)" = "$VERSION" ]; then
  say "already installed: temporal-test-server $VERSION"
  exit 0
fi
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  say "WARNING: no java or mvn: the time-skipping workflow tests will not run (install a JDK >= 11 and Maven)"
  exit 0
fi

tmp="$(mktemp -d "$TOOLS_DIR/.test-server.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>opsguard</groupId><artifactId>temporal-test-server-fetch</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
POM
say "fetching io.temporal:temporal-test-server:$VERSION from Maven Central (first time: about 10 s)..."
if ! (cd "$tmp" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib >"$tmp/mvn.log" 2>&1); then
  tail -n 15 "$tmp/mvn.log" >&2
  fail "Maven could not fetch io.temporal:temporal-test-server:$VERSION" \
    "check that Maven Central is reachable (or configure a mirror in ~/.m2/settings.xml), then rerun 'npm run setup'. Nothing was installed."
fi
rm -rf "$HOME_DIR"
mkdir -p "$HOME_DIR"
mv "$tmp/lib" "$HOME_DIR/lib"
echo "$VERSION" >"$HOME_DIR/VERSION"
cat >"$WRAPPER.tmp" <<SH
#!/bin/sh
# Temporal's time-skipping test server (io.temporal:temporal-test-server $VERSION). Usage: temporal-test-server PORT
exec java -cp "$HOME_DIR/lib/*" io.temporal.testserver.TestServer "\$@"
SH
chmod +x "$WRAPPER.tmp"
mv -f "$WRAPPER.tmp" "$WRAPPER"
say "installed temporal-test-server $VERSION ($(du -sh "$HOME_DIR" | cut -f1)) at $WRAPPER"
