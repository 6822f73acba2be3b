package io.haven.server.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.agent.Enroller;
import io.haven.agent.Identity;
import io.haven.agent.ServerClient;
import io.haven.protocol.Messages;
import io.haven.server.HavenServer;
import io.haven.server.HavenServerTest;
import io.haven.server.ServerConfig;
import io.haven.server.TestClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server restart loses no job: queued jobs stay queued, running ones are re-attached when their agent reports. */
class ServerRestartJobsTest {
    @TempDir
    Path dir;

    ServerConfig config() {
        return HavenServerTest.config(dir.resolve("server")).withControl(ControlPlaneTest.FAST);
    }

    @Test
    void queuedJobsStayQueuedAndRunningOnesAreReattached() throws Exception {
        Identity id;
        long queued;
        long running;
        RawAgent agent;
        try (HavenServer s = HavenServer.start(config())) {
            TestClient c = new TestClient(s.uri(), s.tls().caCertificateFile());
            String admin = c.login("admin", HavenServerTest.ADMIN_PW);
            c.post("/api/v1/repositories", admin, Map.of("name", "main", "location", dir.resolve("repo").toString(), "password", "repository-password"));
            String token = c.post("/api/v1/enrollment-tokens", admin, Map.of()).json().get("token").asText();
            id = Enroller.enroll(s.uri(), token, "steady", null, Map.of(), null, dir.resolve("agent"), new SecureRandom());
            c.post("/api/v1/groups", admin, Map.of("name", "g"));
            c.post("/api/v1/groups/g/members", admin, Map.of("agents", List.of("steady")));
            c.post("/api/v1/policies", admin, Map.of("name", "p", "group", "g", "repository", "main", "schedule", "every 1d"));
            Files.createDirectories(dir.resolve("data"));
            c.post("/api/v1/workloads", admin, Map.of("name", "w", "agent", "steady", "paths", List.of(dir.resolve("data").toString())));
            agent = new RawAgent(id, s.uri());
            agent.heartbeat(1, List.of());
            running = c.post("/api/v1/workloads/w/backup", admin, Map.of()).json().get("id").asLong();
            assertThat(agent.poll(1, 5)).extracting(Messages.Task::jobId).containsExactly(running);
            queued = c.post("/api/v1/workloads/w/backup", admin, Map.of()).json().get("id").asLong();
            agent.progress(running, 100);
        }
        // the server is down: the agent keeps its job and cannot report
        try {
            agent.progress(running, 200);
            throw new AssertionError("the server is stopped");
        } catch (ServerClient.Unreachable expected) {
            // as in the agent daemon: keep going, report later
        }
        try (HavenServer s = HavenServer.start(config())) {
            TestClient c = new TestClient(s.uri(), s.tls().caCertificateFile());
            String admin = c.login("admin", HavenServerTest.ADMIN_PW);
            assertThat(c.get("/api/v1/jobs/" + queued, admin).json().get("state").asText()).isEqualTo("queued");
            JsonNode r = c.get("/api/v1/jobs/" + running, admin).json();
            assertThat(r.get("state").asText()).isEqualTo("running");
            assertThat(r.get("progress").get("bytesDone").asLong()).isEqualTo(100);
            RawAgent back = new RawAgent(id, s.uri());
            back.instance = agent.instance; // the same agent process, still running its job
            back.heartbeat(1, List.of(running));
            assertThat(back.progress(running, 300)).isFalse();
            back.finish(running, "succeeded");
            assertThat(c.get("/api/v1/jobs/" + running, admin).json().get("state").asText()).isEqualTo("succeeded");
            assertThat(back.poll(1, 5)).extracting(Messages.Task::jobId).containsExactly(queued);
            back.finish(queued, "succeeded");
        }
    }

    @Test
    void aServerDownLongerThanLostAfterLetsAgentsReportBeforeItSettlesTheirJobs() throws Exception {
        RawAgent steady;
        long kept;
        long lost;
        try (HavenServer s = HavenServer.start(config())) {
            TestClient c = new TestClient(s.uri(), s.tls().caCertificateFile());
            String admin = c.login("admin", HavenServerTest.ADMIN_PW);
            c.post("/api/v1/repositories", admin, Map.of("name", "main", "location", dir.resolve("repo").toString(), "password", "repository-password"));
            c.post("/api/v1/groups", admin, Map.of("name", "g"));
            c.post("/api/v1/policies", admin, Map.of("name", "p", "group", "g", "repository", "main", "schedule", "every 1d"));
            Files.createDirectories(dir.resolve("data"));
            RawAgent[] agents = new RawAgent[2];
            long[] jobs = new long[2];
            String[] names = {"steady", "gone"};
            for (int i = 0; i < 2; i++) {
                String token = c.post("/api/v1/enrollment-tokens", admin, Map.of()).json().get("token").asText();
                Identity id = Enroller.enroll(s.uri(), token, names[i], null, Map.of(), null, dir.resolve("agent-" + names[i]), new SecureRandom());
                c.post("/api/v1/groups/g/members", admin, Map.of("agents", List.of(names[i])));
                c.post("/api/v1/workloads", admin, Map.of("name", "w-" + names[i], "agent", names[i], "paths", List.of(dir.resolve("data").toString())));
                agents[i] = new RawAgent(id, s.uri());
                agents[i].heartbeat(1, List.of());
                jobs[i] = c.post("/api/v1/workloads/w-" + names[i] + "/backup", admin, Map.of()).json().get("id").asLong();
                assertThat(agents[i].poll(1, 5)).extracting(Messages.Task::jobId).containsExactly(jobs[i]);
            }
            steady = agents[0];
            kept = jobs[0];
            lost = jobs[1];
        }
        // down for longer than lostAfter (4 s): both agents' last word is older than that when the server is back
        Thread.sleep(ControlPlaneTest.FAST.lostAfter().toMillis() + 500);
        try (HavenServer s = HavenServer.start(config())) {
            TestClient c = new TestClient(s.uri(), s.tls().caCertificateFile());
            String admin = c.login("admin", HavenServerTest.ADMIN_PW);
            RawAgent back = new RawAgent(steady.id, s.uri());
            back.instance = steady.instance;
            Thread.sleep(1000); // five rounds of the control loop
            assertThat(c.get("/api/v1/jobs/" + kept, admin).json().get("state").asText()).isEqualTo("running");
            assertThat(c.get("/api/v1/jobs/" + lost, admin).json().get("state").asText()).isEqualTo("running");
            // the steady agent reports; the other stays silent and its job is settled lostAfter after the start
            long until = System.nanoTime() + 10_000_000_000L;
            JsonNode settled = null;
            while (System.nanoTime() < until) {
                back.heartbeat(1, List.of(kept));
                assertThat(back.progress(kept, 100)).isFalse();
                settled = c.get("/api/v1/jobs/" + lost, admin).json();
                if (!settled.get("state").asText().equals("running")) {
                    break;
                }
                Thread.sleep(500);
            }
            assertThat(settled.get("state").asText()).isEqualTo("failed");
            assertThat(settled.get("message").asText()).contains("has not been heard from for 4 s");
            assertThat(c.get("/api/v1/jobs/" + kept, admin).json().get("state").asText()).isEqualTo("running");
            back.finish(kept, "succeeded");
            assertThat(c.get("/api/v1/jobs/" + kept, admin).json().get("state").asText()).isEqualTo("succeeded");
        }
    }
}
