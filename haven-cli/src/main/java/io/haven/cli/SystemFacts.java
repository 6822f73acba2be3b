package io.haven.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about this machine and process, read at the edge. */
final class SystemFacts {
    private SystemFacts() {}

    static String hostname() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).trim();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: ask the resolver
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    static String username() {
        return System.getProperty("user.name", "");
    }

    static long uid() {
        return idOf("unix:uid");
    }

    static long gid() {
        return idOf("unix:gid");
    }

    private static long idOf(String attr) {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), attr)).longValue();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
