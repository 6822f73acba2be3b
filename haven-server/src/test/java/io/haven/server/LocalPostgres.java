package io.haven.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The machine's own PostgreSQL, started for a test on 127.0.0.1 as the {@code postgres} user
 * (initdb and postgres refuse root). {@link #available()} says whether it can run here.
 */
public final class LocalPostgres implements AutoCloseable {
    private final Path data;
    private final Process process;
    private final int port;

    private LocalPostgres(Path data, Process process, int port) {
        this.data = data;
        this.process = process;
        this.port = port;
    }

    public static Path bin() {
        try {
            Path root = Path.of("/usr/lib/postgresql");
            if (!Files.isDirectory(root)) {
                return null;
            }
            List<Path> bins = new ArrayList<>();
            try (Stream<Path> s = Files.list(root)) {
                s.map(p -> p.resolve("bin")).filter(p -> Files.isExecutable(p.resolve("postgres"))).sorted().forEach(bins::add);
            }
            return bins.isEmpty() ? null : bins.get(bins.size() - 1);
        } catch (IOException e) {
            return null;
        }
    }

    public static boolean available() {
        return bin() != null && "root".equals(System.getProperty("user.name"));
    }

    public static LocalPostgres start() throws Exception {
        Path bin = bin();
        Path data = Files.createTempDirectory("haven-pg");
        run("chown", "postgres", data.toString());
        run("runuser", "-u", "postgres", "--", bin.resolve("initdb").toString(), "-D", data.resolve("db").toString(),
                "-U", "haven", "--auth=trust", "-E", "UTF8");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process p = new ProcessBuilder("runuser", "-u", "postgres", "--", bin.resolve("postgres").toString(),
                "-D", data.resolve("db").toString(), "-p", String.valueOf(port), "-h", "127.0.0.1",
                "-k", data.toString(), "-c", "fsync=off", "-c", "max_connections=200")
                .redirectErrorStream(true).redirectOutput(data.resolve("log.txt").toFile()).start();
        for (int i = 0; i < 100; i++) {
            try (var sock = new java.net.Socket("127.0.0.1", port)) {
                Thread.sleep(300);
                return new LocalPostgres(data, p, port);
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        p.destroy();
        throw new AssertionError("PostgreSQL did not start: " + Files.readString(data.resolve("log.txt")));
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        process.waitFor(20, TimeUnit.SECONDS);
        try (Stream<Path> s = Files.walk(data)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
