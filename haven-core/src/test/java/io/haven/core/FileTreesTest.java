package io.haven.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
    @TempDir
    Path dir;

    @Test
    void deletesATreeWithReadOnlyDirectoriesButNotWhatItsLinksPointTo() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("keep"), "k");
        Path root = Files.createDirectories(dir.resolve("root/a/b"));
        Files.writeString(root.resolve("f"), "x");
        Files.createSymbolicLink(dir.resolve("root/link-to-outside"), outside);
        Files.createSymbolicLink(dir.resolve("root/a/dangling"), dir.resolve("nowhere"));
        Files.setPosixFilePermissions(dir.resolve("root/a"), PosixFilePermissions.fromString("r-xr-xr-x"));

        FileTrees.deleteTree(dir.resolve("root"));

        assertThat(dir.resolve("root")).doesNotExist();
        assertThat(outside.resolve("keep")).hasContent("k");
    }

    @Test
    void aLinkAsTheRootIsDeletedItselfAndAMissingPathIsNoError() throws Exception {
        Path target = Files.createDirectories(dir.resolve("target"));
        Files.writeString(target.resolve("keep"), "k");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        FileTrees.deleteTree(link);
        assertThat(Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(target.resolve("keep")).hasContent("k");

        FileTrees.deleteTree(dir.resolve("missing"));
        Path file = Files.writeString(dir.resolve("file"), "f");
        FileTrees.deleteTree(file);
        assertThat(file).doesNotExist();
    }
}
