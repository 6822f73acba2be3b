package io.haven.repository.fs;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.repository.tree.Xattr;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Listing on an open file's descriptor gives what listing by path gives. */
class XattrsTest {
    @Test
    void theTestsListOnTheDescriptor() {
        // the build opens sun.nio.ch and sun.nio.fs to the tests as the launcher does
        assertThat(Xattrs.onDescriptorAvailable()).isTrue();
    }

    @Test
    void onTheDescriptorAsByPath() throws Exception {
        // /var/tmp is on disk (ext4 here); /tmp may be a tmpfs without user attributes
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("haven.test.xattrDir", "/var/tmp")), "xattrs");
        try {
            Path plain = Files.write(dir.resolve("plain"), new byte[10]);
            Path tagged = Files.write(dir.resolve("tagged"), new byte[10]);
            UserDefinedFileAttributeView v = Files.getFileAttributeView(tagged, UserDefinedFileAttributeView.class);
            try {
                v.write("haven.b", ByteBuffer.wrap("two".getBytes(StandardCharsets.UTF_8)));
                v.write("haven.a", ByteBuffer.wrap(new byte[] {1, 0, (byte) 0xff}));
            } catch (java.io.IOException | UnsupportedOperationException e) {
                Assumptions.abort("no user extended attributes on " + dir + ": " + e);
            }
            try (FileChannel ch = FileChannel.open(plain, StandardOpenOption.READ)) {
                assertThat(Xattrs.read(plain, ch)).isEmpty();
            }
            try (FileChannel ch = FileChannel.open(tagged, StandardOpenOption.READ)) {
                List<Xattr> got = Xattrs.read(tagged, ch);
                assertThat(got).isEqualTo(Xattrs.read(tagged));
                assertThat(got).extracting(Xattr::name).containsExactly("user.haven.a", "user.haven.b");
            }
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }
}
