package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands end to end, through the built {@code bin/haven}, as an operator or a script uses them. */
class CommandsIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    Path src;
    Path repo;
    HavenCli haven;

    @BeforeEach
    void setUp() throws IOException {
        src = Files.createDirectories(tmp.resolve("src"));
        repo = tmp.resolve("repo");
        haven = new HavenCli(repo, "correct horse");
        Random rnd = new Random(3);
        for (int i = 0; i < 40; i++) {
            Path dir = Files.createDirectories(src.resolve("d" + (i % 4)));
            byte[] data = new byte[1000 + rnd.nextInt(20_000)];
            rnd.nextBytes(data);
            Files.write(dir.resolve("f" + i + ".bin"), data);
        }
        Files.writeString(src.resolve("notes.txt"), "notes\n".repeat(100));
        Files.writeString(src.resolve("skip.tmp"), "temporary");
        haven.run("init", "--kdf-memory", "8").expect(0);
    }

    private static JsonNode json(String s) throws IOException {
        return JSON.readTree(s);
    }

    @Test
    void secondBackupReadsNoUnchangedFile() throws Exception {
        JsonNode first = json(haven.run("backup", "--json", src.toString()).expect(0).out());
        assertThat(first.get("files_new").asLong()).isEqualTo(42);
        assertThat(first.get("bytes_processed").asLong()).isEqualTo(first.get("total_bytes").asLong()).isPositive();
        assertThat(first.get("bytes_added").asLong()).isPositive();
        for (String key : List.of("snapshot_id", "files_changed", "files_unmodified", "dirs", "duration_seconds", "missed")) {
            assertThat(first.has(key)).as(key).isTrue();
        }

        JsonNode second = json(haven.run("backup", "--json", src.toString()).expect(0).out());
        assertThat(second.get("files_unmodified").asLong()).isEqualTo(42);
        assertThat(second.get("files_new").asLong()).isZero();
        assertThat(second.get("files_changed").asLong()).isZero();
        assertThat(second.get("bytes_processed").asLong()).as("bytes read from unchanged files").isZero();
        assertThat(second.get("parent").asText()).isEqualTo(first.get("snapshot_id").asText());

        Files.writeString(src.resolve("notes.txt"), "changed\n");
        JsonNode third = json(haven.run("backup", "--json", src.toString()).expect(0).out());
        assertThat(third.get("files_changed").asLong()).isEqualTo(1);
        assertThat(third.get("bytes_processed").asLong()).isEqualTo(8);

        JsonNode forced = json(haven.run("backup", "--json", "--force", src.toString()).expect(0).out());
        assertThat(forced.get("bytes_processed").asLong()).isEqualTo(forced.get("total_bytes").asLong());
        assertThat(forced.get("bytes_added").asLong()).as("forced re-read stores nothing new")
                .isLessThan(first.get("bytes_added").asLong() / 10);
    }

    @Test
    void snapshotsListsIdTimeHostTagsPaths() throws Exception {
        haven.run("backup", "--tag", "daily", "--tag", "web", "--host", "web1", src.toString()).expect(0);
        JsonNode list = json(haven.run("snapshots", "--json").expect(0).out());
        assertThat(list).hasSize(1);
        JsonNode s = list.get(0);
        assertThat(s.get("id").asText()).hasSize(64);
        assertThat(s.get("time").asText()).contains("T");
        assertThat(s.get("host").asText()).isEqualTo("web1");
        assertThat(s.get("tags").toString()).isEqualTo("[\"daily\",\"web\"]");
        assertThat(s.get("paths").get(0).asText()).isEqualTo(src.toString());
        String table = haven.run("snapshots").expect(0).out();
        assertThat(table).contains(s.get("id").asText().substring(0, 8), "web1", "daily,web", src.toString());
    }

    @Test
    void lsDiffAndRestoreFiltersWork() throws Exception {
        haven.run("backup", "--exclude", "*.tmp", src.toString()).expect(0);
        String ls = haven.run("ls", "latest", src.toString()).expect(0).out();
        assertThat(ls).contains(src + "/notes.txt", src + "/d0/f0.bin").doesNotContain("skip.tmp");
        JsonNode lsJson = json(haven.run("ls", "--json", "latest", src + "/notes.txt").expect(0).out());
        assertThat(lsJson.get(0).get("size").asLong()).isEqualTo(600);

        Files.delete(src.resolve("d1/f1.bin"));
        Files.writeString(src.resolve("added.txt"), "new");
        Files.writeString(src.resolve("notes.txt"), "different");
        haven.run("backup", "--exclude", "*.tmp", src.toString()).expect(0);
        String first = json(haven.run("snapshots", "--json").out()).get(0).get("id").asText();
        String diff = haven.run("diff", first.substring(0, 10), "latest").expect(0).out();
        assertThat(diff).contains("+ " + src + "/added.txt", "- " + src + "/d1/f1.bin", "M " + src + "/notes.txt");
        JsonNode diffJson = json(haven.run("diff", "--json", first, "latest").expect(0).out());
        assertThat(diffJson.get("added").asLong()).isEqualTo(1);
        assertThat(diffJson.get("removed").asLong()).isEqualTo(1);

        Path target = tmp.resolve("only-txt");
        haven.run("restore", "latest:" + src, "--target", target.toString(), "--include", "*.txt").expect(0);
        try (Stream<Path> s = Files.walk(target)) {
            assertThat(s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("added.txt", "notes.txt");
        }
        Path noD0 = tmp.resolve("no-d0");
        haven.run("restore", "latest:" + src, "--target", noD0.toString(), "--exclude", "d0").expect(0);
        assertThat(noD0.resolve("d0")).doesNotExist();
        assertThat(noD0.resolve("d2")).isDirectory();

        Path dry = tmp.resolve("dry");
        JsonNode dr = json(haven.run("restore", "--json", "latest", "--target", dry.toString(), "--dry-run").expect(0).out());
        assertThat(dr.get("files").asLong()).as("40 - 1 deleted + notes + added").isEqualTo(41);
        assertThat(dry).doesNotExist();

        Path whole = tmp.resolve("whole");
        haven.run("restore", "latest", "--target", whole.toString()).expect(0);
        assertThat(whole.resolve(src.toString().substring(1)).resolve("added.txt")).hasContent("new");
    }

    @Test
    void restoreReplacesExistingFilesInsteadOfWritingThroughThem() throws Exception {
        haven.run("backup", src.toString()).expect(0);
        Path target = tmp.resolve("again");
        haven.run("restore", "latest:" + src, "--target", target.toString()).expect(0);
        // a file elsewhere hard-linked into the target, and a symlink planted in the target
        Path outside = tmp.resolve("outside.txt");
        Files.createLink(outside, target.resolve("notes.txt"));
        Files.delete(target.resolve("d0/f0.bin"));
        Path victim = Files.writeString(tmp.resolve("victim.txt"), "must stay");
        Files.createSymbolicLink(target.resolve("d0/f0.bin"), victim);
        Files.writeString(src.resolve("notes.txt"), "second version");
        haven.run("backup", src.toString()).expect(0);
        haven.run("restore", "latest:" + src, "--target", target.toString()).expect(0);
        assertThat(target.resolve("notes.txt")).hasContent("second version");
        assertThat(outside).as("the other link keeps the old content").hasContent("notes\n".repeat(100));
        assertThat(victim).hasContent("must stay");
        assertThat(Files.isSymbolicLink(target.resolve("d0/f0.bin"))).isFalse();
        assertThat(Files.mismatch(src.resolve("d0/f0.bin"), target.resolve("d0/f0.bin"))).isEqualTo(-1L);
    }

    @Test
    void aFileWhoseSizeDiffersFromWhatIsReadIsStoredAsRead() throws Exception {
        // /proc files report size 0 but hold bytes: the same as a file that grows during the backup
        Path version = Path.of("/proc/version");
        assumeTrue(Files.isReadable(version) && Files.size(version) == 0, "needs Linux /proc");
        String content = Files.readString(version);
        haven.run("backup", version.toString()).expect(0);
        haven.run("check", "--read-data").expect(0);
        Path target = tmp.resolve("proc");
        haven.run("restore", "latest", "--target", target.toString()).expect(0);
        assertThat(target.resolve("proc/version")).hasContent(content);
        JsonNode ls = json(haven.run("ls", "--json", "latest", "/proc/version").expect(0).out());
        assertThat(ls.get(0).get("size").asLong()).isEqualTo(content.length());
    }

    @Test
    void wrongPasswordIsRefusedOnOneLineWithoutAStackTrace() {
        haven.run("backup", src.toString()).expect(0);
        HavenCli.Result r = haven.env("HAVEN_PASSWORD", "wrong").run("snapshots").expect(1);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).startsWith("haven: wrong password").doesNotContain("\tat ");
        HavenCli.Result debug = haven.run("--debug", "snapshots").expect(1);
        assertThat(debug.err()).contains("\tat io.haven");
        HavenCli.Result js = haven.run("snapshots", "--json").expect(1);
        assertThat(js.err()).contains("\"code\":\"wrong_password\"");
    }

    @Test
    void missingOrCorruptRepositoryIsAClearError() throws Exception {
        HavenCli none = new HavenCli(tmp.resolve("nowhere"), "x");
        assertThat(none.run("snapshots").expect(1).err()).startsWith("haven: no repository at");
        haven.run("backup", src.toString()).expect(0);
        Path index;
        try (Stream<Path> s = Files.list(repo.resolve("index"))) {
            index = s.findFirst().orElseThrow();
        }
        Files.write(index, new byte[] {1, 2, 3});
        // the local copy of the loaded index (backends.md §5) still says where every blob is, and
        // restore verifies every blob: it works; check reads the repository's own index files
        haven.run("restore", "latest", "--target", tmp.resolve("r0").toString()).expect(0);
        HavenCli.Result checked = haven.run("check").expect(1);
        assertThat(checked.out()).contains("does not match its hash");
        assertThat(checked.err()).contains("error(s)").doesNotContain("\tat ");
        HavenCli.Result r = haven.env("HAVEN_NO_CACHE", "1").run("restore", "latest", "--target", tmp.resolve("r").toString()).expect(1);
        assertThat(r.err()).contains("does not match its hash").doesNotContain("\tat ");
        Files.writeString(repo.resolve("config"), "{ not json");
        assertThat(haven.run("snapshots").expect(1).err()).startsWith("haven: repository config is not valid");
    }

    @Test
    void initRefusesANonEmptyDirectory() throws Exception {
        assertThat(haven.run("init").expect(1).err()).contains("already exists");
        Path other = Files.createDirectories(tmp.resolve("other"));
        Files.writeString(other.resolve("file"), "x");
        assertThat(new HavenCli(other, "x").run("init").expect(1).err()).contains("is not empty");
        assertThat(other.resolve("config")).doesNotExist();
    }

    @Test
    void aTamperedPackIsReportedByCheckAndRestore() throws Exception {
        haven.run("backup", src.toString()).expect(0);
        assertThat(haven.run("check", "--read-data").expect(0).out()).contains("no errors found");
        Path pack;
        try (Stream<Path> s = Files.walk(repo.resolve("data"))) {
            pack = s.filter(Files::isRegularFile).max(Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(pack.toFile(), "rw")) {
            f.seek(f.length() / 3);
            int b = f.read();
            f.seek(f.length() / 3);
            f.write(b ^ 0x40);
        }
        HavenCli.Result check = haven.run("check", "--read-data").expect(1);
        assertThat(check.out()).contains("error: pack data/").contains("modified or damaged");
        assertThat(check.err()).contains("the repository has");
        HavenCli.Result restore = haven.run("restore", "latest", "--target", tmp.resolve("r").toString()).expect(1);
        assertThat(restore.err()).containsAnyOf("failed authentication", "does not match").doesNotContain("\tat ");
        // what the failed restore left is right: the file it could not verify is not left half written
        Path restoredSrc = tmp.resolve("r").resolve(src.toString().substring(1));
        try (Stream<Path> s = Files.walk(tmp.resolve("r"))) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                Path original = src.resolve(restoredSrc.relativize(p).toString());
                assertThat(Files.mismatch(p, original)).as(p + " as restored").isEqualTo(-1);
            }
        }
    }

    @Test
    void keysCanBeAddedListedRemovedAndChanged() throws Exception {
        haven.env("HAVEN_NEW_PASSWORD", "second password").run("key", "add", "--kdf-memory", "8").expect(0);
        JsonNode keys = json(haven.run("key", "list", "--json").expect(0).out());
        assertThat(keys).hasSize(2);
        String current = keys.get(0).get("current").asBoolean() ? keys.get(0).get("id").asText() : keys.get(1).get("id").asText();
        String other = keys.get(0).get("current").asBoolean() ? keys.get(1).get("id").asText() : keys.get(0).get("id").asText();
        assertThat(haven.run("key", "remove", current.substring(0, 8)).expect(1).err()).contains("is the one in use");
        HavenCli second = new HavenCli(repo, "second password");
        second.run("snapshots").expect(0);
        second.run("key", "remove", current.substring(0, 8)).expect(0);
        haven.run("snapshots").expect(1);
        assertThat(second.run("key", "remove", other.substring(0, 8)).expect(1).err()).contains("in use");
        second.env("HAVEN_NEW_PASSWORD", "third password").run("key", "passwd", "--kdf-memory", "8").expect(0);
        second.run("snapshots").expect(1);
        new HavenCli(repo, "third password").run("snapshots").expect(0);
        Path pwFile = tmp.resolve("pw");
        Files.writeString(pwFile, "third password\n");
        haven.env("HAVEN_PASSWORD", null).run("--password-file", pwFile.toString(), "snapshots").expect(0);
    }

    @Test
    void unreadableFilesAreMissedAndTheExitCodeSaysSo() throws Exception {
        Path secret = src.resolve("secret.txt");
        Files.writeString(secret, "for root only");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("---------"));
        long readableBytes;
        try (Stream<Path> s = Files.walk(src)) {
            readableBytes = s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && !p.equals(secret))
                    .mapToLong(p -> p.toFile().length()).sum();
        }
        Path locked = Files.createDirectory(src.resolve("locked"));
        Files.writeString(locked.resolve("inside.txt"), "not seen");
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        if (HavenCli.isRoot()) {
            // root reads everything: run the backup as nobody, on a tree and repository nobody can use
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            try (Stream<Path> s = Files.walk(src)) {
                for (Path p : s.toList()) {
                    if (!p.equals(secret) && !p.startsWith(locked)) {
                        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
                    }
                }
            }
            HavenCli.sh("chown", "-R", "65534:65534", repo.toString());
            haven.via("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups").env("HAVEN_CDS", "0");
        }
        HavenCli.Result r = haven.run("backup", "--json", src.toString()).expect(3);
        JsonNode summary = json(r.out());
        // each unreadable path once (the directory's attributes are not a second entry)
        assertThat(summary.get("missed")).hasSize(2);
        assertThat(summary.get("missed").get(0).get("path").asText()).isEqualTo(locked.toString());
        assertThat(summary.get("missed").get(0).get("reason").asText()).isEqualTo("permission denied");
        assertThat(summary.get("missed").get(1).get("path").asText()).isEqualTo(secret.toString());
        assertThat(summary.get("missed").get(1).get("reason").asText()).isEqualTo("permission denied");
        assertThat(summary.get("files_new").asLong()).isEqualTo(42);
        // the totals are of what the snapshot holds: the missed file is not in them
        assertThat(summary.get("total_files").asLong()).isEqualTo(42);
        assertThat(summary.get("total_bytes").asLong()).isEqualTo(readableBytes);
        JsonNode listed = json(haven.run("snapshots", "--json").expect(0).out()).get(0);
        assertThat(listed.toString()).contains("\"files\":42");
        HavenCli.Result human = haven.run("backup", src.toString()).expect(3);
        assertThat(human.out()).contains("missed 2 path", "secret.txt: permission denied");
    }

    @Test
    void restoreRefusesATargetWithoutRoomBeforeWriting() throws Exception {
        assumeTrue(HavenCli.isRoot(), "mounting a small file system needs root");
        byte[] big = new byte[4 << 20];
        new Random(5).nextBytes(big);
        Files.write(src.resolve("big.bin"), big);
        haven.run("backup", src.toString()).expect(0);
        Path small = Files.createDirectories(tmp.resolve("small"));
        HavenCli.sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small.toString());
        try {
            HavenCli.Result r = haven.run("restore", "latest", "--target", small.resolve("t").toString()).expect(1);
            assertThat(r.err()).startsWith("haven: not enough room in").contains("needs");
            try (Stream<Path> s = Files.list(small)) {
                assertThat(s.toList()).as("nothing written").isEmpty();
            }
        } finally {
            HavenCli.sh("umount", small.toString());
        }
    }

    @Test
    void usageErrorsAreOneLineWithAHint() {
        HavenCli.Result r = haven.run("restore", "latest").expect(1);
        assertThat(r.err()).contains("--target").contains("try 'haven restore --help'");
        assertThat(haven.run("frobnicate").expect(1).err()).contains("Unmatched argument");
        assertThat(haven.run("--version").expect(0).out()).startsWith("haven ");
        assertThat(haven.run("restore", "--help").expect(0).out()).contains("--target", "--include", "--dry-run");
        assertThat(haven.run("key", "add", "--help").expect(0).out()).contains("--new-password-file");
        assertThat(haven.run("backup", tmp.resolve("does-not-exist").toString()).expect(1).err())
                .contains("does not exist");
    }

    @Test
    void operatorMistakesAreRefusedOrDoneAsMeant() throws Exception {
        // an empty path (an unset variable in a script) is not the current directory
        assertThat(haven.run("backup", "").expect(1).err()).contains("empty path");
        haven.run("backup", src.toString()).expect(0);
        assertThat(haven.run("restore", "latest", "--target", "", "--sync").expect(1).err()).contains("empty path");
        assertThat(haven.run("--repo", "", "snapshots").expect(1).err()).contains("repository location is empty");

        // tags: 'a,b' is two tags, as the list shows them; an empty one is refused
        haven.run("backup", "--tag", "a,b", "--tag", "c", src.toString()).expect(0);
        JsonNode last = json(haven.run("snapshots", "--json").expect(0).out()).get(1);
        assertThat(last.get("tags").toString()).isEqualTo("[\"a\",\"b\",\"c\"]");
        assertThat(json(haven.run("snapshots", "--json", "--tag", "c,a").expect(0).out())).hasSize(1);
        assertThat(json(haven.run("snapshots", "--json", "--tag", "a,x").expect(0).out())).isEmpty();
        assertThat(haven.run("backup", "--tag", "", src.toString()).expect(1).err()).contains("empty tag");
        assertThat(haven.run("backup", "--host", "", src.toString()).expect(1).err()).contains("--host is empty");

        // a symbolic link to a directory: with a trailing slash the directory, without it the link
        Path link = Files.createSymbolicLink(tmp.resolve("lnk"), src);
        JsonNode viaSlash = json(haven.run("backup", "--json", link + "/").expect(0).out());
        assertThat(viaSlash.get("total_files").asLong()).isEqualTo(42);
        assertThat(json(haven.run("snapshots", "--json").expect(0).out()).get(2).get("paths").get(0).asText())
                .isEqualTo(src.toString());
        JsonNode linkItself = json(haven.run("backup", "--json", link.toString()).expect(0).out());
        assertThat(linkItself.get("total_files").asLong()).isZero();
        assertThat(haven.run("backup", src.resolve("notes.txt") + "/").expect(1).err()).contains("not a directory");

        // a new password comes from HAVEN_NEW_PASSWORD or --new-password-file: the error says so
        assertThat(haven.run("key", "add", "--kdf-memory", "8").expect(1).err()).contains("HAVEN_NEW_PASSWORD", "--new-password-file");

        // a directory an interrupted init left (keys, no config) is named as such
        Path half = tmp.resolve("half");
        new HavenCli(half, "pw").run("init", "--kdf-memory", "8").expect(0);
        Files.delete(half.resolve("config"));
        assertThat(new HavenCli(half, "pw").run("snapshots").expect(1).err()).contains("interrupted 'haven init'");
        assertThat(new HavenCli(half, "pw").run("init").expect(1).err()).contains("interrupted 'haven init'");
    }
}
