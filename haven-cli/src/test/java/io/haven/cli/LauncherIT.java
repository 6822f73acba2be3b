package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher keeps the JVM quiet, also while its start-up cache is being built, and finds a
 * Java from its {@code release} file without starting one.
 */
class LauncherIT {
    @TempDir
    Path tmp;

    @Test
    void commandsPrintNothingOnStderrBeforeAndAfterTheStartUpCacheExists() {
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "pw").env("HAVEN_CACHE_DIR", tmp.resolve("jvm-cache").toString());
        assertThat(haven.run("init", "--kdf-memory", "8").expect(0).err()).isEmpty();
        for (int i = 0; i < 3; i++) {
            HavenCli.Result r = haven.run("snapshots");
            assertThat(r.exit()).isZero();
            assertThat(r.err()).as("stderr of run %d", i).isEmpty();
        }
    }

    @Test
    void nativeLibrariesAreLoadedFromTheDistributionNotUnpackedIntoTmp() throws Exception {
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64" -> "aarch64";
            default -> null;
        };
        org.junit.jupiter.api.Assumptions.assumeTrue(arch != null, "no unpacked zstd library for this machine");
        // no usable temporary folder: zstd-jni could not unpack its library from the jar
        Path tmpDir = tmp.resolve("no-such-folder");
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "pw")
                .env("HAVEN_CACHE_DIR", tmp.resolve("jvm-cache").toString())
                .env("HAVEN_JAVA_OPTS", "-XshowSettings:properties -Djava.io.tmpdir=" + tmpDir);
        HavenCli.Result r = haven.run("init", "--kdf-memory", "8").expect(0);
        Path lib = HavenCli.dist().resolve("lib/native/linux/" + arch);
        try (var files = Files.list(lib)) {
            Path so = files.filter(f -> f.getFileName().toString().startsWith("libzstd-jni-")).findFirst().orElseThrow();
            assertThat(r.err()).contains("ZstdNativePath = " + so);
        }
        // a backup compresses (a writer's registration first, then the file) and a restore decompresses
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("text"), "compress me, ".repeat(1000));
        haven.run("backup", src.toString()).expect(0);
        haven.run("restore", "latest", "--target", tmp.resolve("back").toString()).expect(0);
        assertThat(tmp.resolve("back").resolve(src.toString().substring(1)).resolve("text")).hasSameTextualContentAs(src.resolve("text"));
        // the same for SQLite's library: the server's embedded database, opened by 'admin create'
        HavenCli.Result admin = haven.env("HAVEN_ADMIN_PASSWORD", "a-long-enough-password")
                .run("admin", "create", "--data", tmp.resolve("server").toString(), "--username", "ops").expect(0);
        assertThat(admin.err()).contains("org.sqlite.lib.path = " + HavenCli.dist().resolve("lib/native/sqlite/Linux/"
                + (arch.equals("amd64") ? "x86_64" : arch)));
        assertThat(tmp.resolve("server/db/haven.db")).isRegularFile();
        assertThat(tmpDir).doesNotExist();
    }

    @Test
    void theJavaVersionComesFromTheReleaseFileOrFromTheJavaItself() throws Exception {
        assertThat(major(fakeJdk("a", "JAVA_VERSION=\"25.0.3\"", null))).isEqualTo("25");
        assertThat(major(fakeJdk("b", "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"21\"\nOS_NAME=\"Linux\"", null))).isEqualTo("21");
        assertThat(major(fakeJdk("c", "JAVA_VERSION=\"17.0.13\"", null))).isEqualTo("17");
        assertThat(major(fakeJdk("d", "JAVA_VERSION=\"1.8.0_402\"", null))).isEqualTo("8");
        assertThat(major(fakeJdk("e", "JAVA_VERSION=\"22-ea\"", null))).isEqualTo("22");
        // no release file, or one without a version: the binary is asked (and not before)
        assertThat(major(fakeJdk("f", null, "23.0.1"))).isEqualTo("23");
        assertThat(major(fakeJdk("g", "JAVA_VERSION=\"\"", "24"))).isEqualTo("24");
    }

    @Test
    void javaHomeComesFirstWhenItIsNewEnough() throws Exception {
        Path jdk = fakeJdk("new", "JAVA_VERSION=\"25.0.1\"", null);
        String out = shell("JAVA_HOME=" + jdk.getParent().getParent() + " haven_find_java"
                + " && echo \"$HAVEN_JAVA|$HAVEN_JAVA_HOME|$HAVEN_JAVA_MAJOR\"");
        assertThat(out).isEqualTo(jdk + "|" + jdk.getParent().getParent() + "|25");
    }

    @Test
    void theJavaFoundIsRememberedWhileJavaHomePathAndTheJarsStayTheSame() throws Exception {
        Path cache = tmp.resolve("cache");
        HavenCli haven = new HavenCli(tmp.resolve("repo"), "pw").env("HAVEN_CACHE_DIR", cache.toString());
        assertThat(haven.run("--version").expect(0).out()).startsWith("haven ");
        Path record;
        try (var files = Files.list(cache)) {
            record = files.filter(f -> f.getFileName().toString().startsWith("launch-")).findFirst().orElseThrow();
        }
        List<String> lines = Files.readAllLines(record);
        assertThat(lines.get(0)).isEqualTo("haven-launch-1");
        assertThat(Path.of(lines.get(4))).isExecutable();
        assertThat(lines.get(5)).matches("\\d+");
        // the record names another Java: the next command runs that one, without searching
        Path fake = fakeJdk("remembered", null, null);
        Files.writeString(fake, "#!/bin/sh\necho remembered-java\n");
        lines.set(4, fake.toString());
        Files.write(record, lines);
        assertThat(haven.run("--version").expect(0).out()).contains("remembered-java").doesNotContain("haven ");
        // another PATH (or JAVA_HOME) searches again, and records what it found
        HavenCli otherPath = new HavenCli(tmp.resolve("repo"), "pw").env("HAVEN_CACHE_DIR", cache.toString())
                .env("PATH", tmp.resolve("nothing-here") + ":" + System.getenv("PATH"));
        assertThat(otherPath.run("--version").expect(0).out()).startsWith("haven ");
        assertThat(Files.readAllLines(record).get(4)).isNotEqualTo(fake.toString());
        // a jar newer than the record searches again too
        lines = Files.readAllLines(record);
        lines.set(4, fake.toString());
        Files.write(record, lines);
        Files.setLastModifiedTime(record, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        assertThat(otherPath.run("--version").expect(0).out()).startsWith("haven ");
        // HAVEN_CDS=0: no record is read
        Files.write(record, lines);
        assertThat(otherPath.env("HAVEN_CDS", "0").run("--version").expect(0).out()).startsWith("haven ");
    }

    /** A JDK folder with a {@code bin/java} script that prints {@code specVersion} like a JVM does. */
    private Path fakeJdk(String name, String release, String specVersion) throws IOException {
        Path home = tmp.resolve("jdk-" + name);
        Path java = home.resolve("bin/java");
        Files.createDirectories(java.getParent());
        String body = specVersion == null ? "exit 1" : "echo '    java.specification.version = " + specVersion + "' >&2";
        Files.writeString(java, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (release != null) {
            Files.writeString(home.resolve("release"), release + "\n");
        }
        return java;
    }

    private String major(Path java) throws Exception {
        return shell("haven_java_major '" + java + "' && echo \"$HAVEN_MAJOR\"");
    }

    private String shell(String script) throws Exception {
        Path findJava = Path.of("src/dist/bin/find-java.sh").toAbsolutePath();
        Process p = new ProcessBuilder(List.of("bash", "-c", ". '" + findJava + "'; " + script))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
