package io.haven.server.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server process killed with SIGKILL still has every commit that had returned when the
 * embedded database is opened again. A child JVM ({@link #main}) opens the database through
 * {@link Database}, commits, says so, and the test kills it (SIGKILL: no shutdown hook, no
 * close) and reads the file back.
 *
 * <p>This is the test that H2 failed (docs/decisions.md, "The embedded database is SQLite"):
 * killed more than its retention time (45 s) after the database was created, H2 lost the last
 * 3-4 commits in 2 of 6 kills. The default run kills a busy writer after a few seconds; the
 * kills 55-58 s after creation take six minutes and run with {@code -Dhaven.soak=true}.
 */
class KilledServerKeepsCommitsTest {
    @TempDir
    Path dir;

    /**
     * The child: {@code args[2]} threads each commit {@code args[1]} audit rows one by one; then
     * it prints "committed" and sleeps.
     */
    public static void main(String[] args) throws Exception {
        Database db = Database.open(DatabaseConfig.embedded(Path.of(args[0])));
        if (args[1].equals("soak")) {
            soak(db);
            return;
        }
        int rows = Integer.parseInt(args[1]);
        int threads = Integer.parseInt(args[2]);
        Thread[] writers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int thread = t;
            writers[t] = new Thread(() -> {
                for (int i = 0; i < rows; i++) {
                    int n = i;
                    db.jdbi().useHandle(h -> h.execute("INSERT INTO audit (occurred_at, action, status) VALUES (?, ?, 200)",
                            System.currentTimeMillis(), "probe " + thread + "-" + n));
                }
            });
            writers[t].start();
        }
        for (Thread w : writers) {
            w.join();
        }
        System.out.println("committed");
        System.out.flush();
        Thread.sleep(60_000);
    }

    /**
     * The soak child: like a server, one thread commits a job row and then marks it running
     * every 200 ms and prints "C n" after each pair, while two others update heartbeats
     * every 150 ms; it runs until killed.
     */
    private static void soak(Database db) throws Exception {
        db.jdbi().useHandle(h -> h.execute("CREATE TABLE probe (n BIGINT PRIMARY KEY, state VARCHAR(16), payload VARCHAR(4000))"));
        db.jdbi().useHandle(h -> h.execute("CREATE TABLE beat (id INT PRIMARY KEY, t BIGINT)"));
        db.jdbi().useHandle(h -> h.execute("INSERT INTO beat VALUES (1, 0), (2, 0)"));
        for (int b = 1; b <= 2; b++) {
            int id = b;
            Thread beat = new Thread(() -> {
                while (true) {
                    db.jdbi().useHandle(h -> h.execute("UPDATE beat SET t = ? WHERE id = ?", System.currentTimeMillis(), id));
                    try {
                        Thread.sleep(150);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            beat.setDaemon(true);
            beat.start();
        }
        String pad = "x".repeat(3000);
        for (long n = 0; ; n++) {
            long k = n;
            db.jdbi().useHandle(h -> h.execute("INSERT INTO probe VALUES (?, 'queued', ?)", k, k % 5 == 0 ? pad : "p"));
            db.jdbi().useHandle(h -> h.execute("UPDATE probe SET state = 'running' WHERE n = ?", k));
            System.out.println("C " + n);
            System.out.flush();
            Thread.sleep(200);
        }
    }

    /**
     * The kills that H2 failed: a server that has written for more than a minute. With H2
     * 2.5.252 on 2026-11-30, 2 of these 6 kills lost the last 3-4 commits; a minute per kill,
     * so only with {@code -Dhaven.soak=true}.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "haven.soak", matches = "true")
    void commitsSurviveASigkillAfterAMinuteOfWrites() throws Exception {
        assertThat(killBusyWriters(55, 56, 56.5, 57, 57.5, 58)).isEmpty();
    }

    /** The same busy writer as the soak, killed after a few seconds. */
    @Test
    void commitsOfABusyWriterSurviveASigkill() throws Exception {
        assertThat(killBusyWriters(2.5, 4)).isEmpty();
    }

    /** Runs the soak child once per kill time and lists the kills that lost a returned commit. */
    private List<String> killBusyWriters(double... killTimes) throws Exception {
        java.util.List<String> lost = new java.util.ArrayList<>();
        for (double killAt : killTimes) {
            Path data = dir.resolve("soak-" + killAt);
            String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                    KilledServerKeepsCommitsTest.class.getName(), data.toString(), "soak")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("soak-" + killAt + ".out").toFile()).start();
            // the kill time counts from the child's first commit, not its start: a loaded machine (CI) once took more
            // than 2.5 s to start the JVM and create the tables, and the kill came before there was anything to keep
            Path out = dir.resolve("soak-" + killAt + ".out");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (java.nio.file.Files.readAllLines(out).stream().noneMatch(l -> l.equals("C 0"))) {
                assertThat(child.isAlive()).as("the soak child is running: %s", java.nio.file.Files.readAllLines(out)).isTrue();
                assertThat(System.nanoTime()).as("the soak child committed within 60 s").isLessThan(deadline);
                Thread.sleep(20);
            }
            Thread.sleep((long) (killAt * 1000));
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            List<String> lines = java.nio.file.Files.readAllLines(dir.resolve("soak-" + killAt + ".out"));
            long printed = lines.stream().filter(l -> l.startsWith("C ")).mapToLong(l -> Long.parseLong(l.substring(2))).max().orElse(-1);
            try (Database db = Database.open(DatabaseConfig.embedded(data))) {
                long inFile = db.jdbi().withHandle(h -> h.createQuery("SELECT COALESCE(MAX(n), -1) FROM probe WHERE state = 'running'")
                        .mapTo(Long.class).one());
                if (inFile < printed) {
                    lost.add("killed at " + killAt + " s: last commit " + printed + ", in the file " + inFile);
                }
            }
            assertThat(printed).as("the child committed before the kill (%s)", lines).isGreaterThanOrEqualTo(3);
        }
        return lost;
    }

    @Test
    void everyCommitThatReturnedSurvivesASigkill() throws Exception {
        // one database creation (migrations), then the kill comes while nothing else is written
        for (int[] shape : new int[][] {{1, 1}, {200, 4}}) {
            int rows = shape[0];
            int threads = shape[1];
            Path data = dir.resolve("data-" + rows + "-" + threads + "-" + System.nanoTime());
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    KilledServerKeepsCommitsTest.class.getName(), data.toString(), String.valueOf(rows), String.valueOf(threads))
                    .redirectErrorStream(true).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                boolean committed = false;
                StringBuilder log = new StringBuilder();
                while ((line = out.readLine()) != null) {
                    log.append(line).append('\n');
                    if (line.equals("committed")) {
                        committed = true;
                        break;
                    }
                }
                assertThat(committed).as("child output:\n%s", log).isTrue();
                child.destroyForcibly(); // SIGKILL: no shutdown hook, no close
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            try (Database db = Database.open(DatabaseConfig.embedded(data))) {
                List<String> actions = db.jdbi().withHandle(h -> h.createQuery(
                        "SELECT action FROM audit WHERE action LIKE 'probe %' ORDER BY id").mapTo(String.class).list());
                assertThat(actions).as("rows after a SIGKILL, %d × %d committed", threads, rows).hasSize(rows * threads);
            }
        }
    }
}
