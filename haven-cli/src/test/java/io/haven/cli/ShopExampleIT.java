package io.haven.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.haven.cli.shop.Shop;
import io.haven.cli.shop.Shop.Client;
import io.haven.cli.shop.Shop.Row;
import io.haven.runbook.DrPlan;
import io.haven.runbook.PlanValidationException;
import io.haven.runbook.PlanYaml;
import io.haven.runbook.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample three-tier application of {@code examples/shop} on its own, without Haven, all on
 * 127.0.10.1 (free ports): PostgreSQL, ShopApp, ShopWeb, and a BIND 9 serving
 * {@code www.shop.test.}. ShopClient writes 20 records through the name and reads them back; the
 * attachments are on the app's volume; a TSIG-signed update moves the name and the client follows;
 * the app reconnects after the database restarts; the web front's /health turns 503 when the app
 * stops. Also fills the DR plan template and validates it. Skipped without PostgreSQL or named.
 * About 30 s (every ShopClient run is a JVM compiling its source).
 */
class ShopExampleIT {
    private static final String SITE = "127.0.10.1";

    @TempDir
    Path tmp;

    @Test
    void theShopRunsOnItsOwn() throws Exception {
        Shop.assumeAvailable();
        Path appData = tmp.resolve("app");
        try (Shop shop = new Shop(tmp)) {
            Shop.Database db = shop.database(tmp.resolve("db"), SITE, Shop.freePort(SITE));
            Shop.Service app = shop.app(SITE, Shop.freePort(SITE), appData, db.address(), db.port());
            Shop.Service web = shop.web(SITE, Shop.freePort(SITE), app.address(), app.port());
            Shop.Dns dns = shop.dns(SITE);
            web.awaitHealthy(Duration.ofSeconds(60));
            assertThat(Shop.get(app.url() + "/health").body()).isEqualTo("ok\n");
            assertThat(Shop.get(web.url() + "/").body()).contains("<title>Haven shop</title>");

            Client client = shop.client(dns, web.port());
            assertThat(client.resolve()).isEqualTo(SITE);

            // 20 records through the name: each acknowledged with its own id, all read back
            List<Row> written = client.write(20);
            assertThat(written).hasSize(20);
            assertThat(new HashSet<>(written.stream().map(Row::id).toList())).hasSize(20);
            assertThat(new HashSet<>(written.stream().map(Row::body).toList())).hasSize(20);
            assertThat(written).allSatisfy(r -> assertThat(r.body()).matches("rec-[0-9a-f-]{36}"));
            assertThat(Client.byId(client.read())).isEqualTo(Client.byId(written));
            Client.Result check = client.checkIds(written).expect(0);
            assertThat(check.out()).isEmpty();
            assertThat(check.err()).contains("checked 20 ids", "all present");
            assertThat(db.queryOne("SELECT count(*) FROM records")).isEqualTo("20");

            // the attachments, one file per record, with its text; no temporary file left
            for (Row r : written) {
                assertThat(appData.resolve("attachments/" + r.id() + ".txt")).hasContent(r.body());
            }
            try (Stream<Path> s = Files.list(appData.resolve("attachments"))) {
                assertThat(s.map(p -> p.getFileName().toString()).toList()).hasSize(20).allMatch(n -> n.matches("\\d+\\.txt"));
            }
            Row first = written.get(0);
            assertThat(Shop.get(web.url() + "/api/records/" + first.id()).body()).isEqualTo(first.body());
            assertThat(Shop.get(web.url() + "/api/attachments/" + first.id()).body()).isEqualTo(first.body());
            assertThat(db.queryOne("SELECT attachment FROM records WHERE id = " + first.id())).isEqualTo("attachments/" + first.id() + ".txt");
            assertThat(Shop.get(web.url() + "/api/records/999999").status()).isEqualTo(404);
            assertThat(Shop.get(web.url() + "/api/attachments/999999").status()).isEqualTo(404);
            assertThat(Shop.send("POST", web.url() + "/api/records", "two\nlines").status()).isEqualTo(400);

            // a record the client did not acknowledge is reported missing, and the exit says so
            Client.Result bad = client.checkIds(List.of(first, new Row(999999, "rec-never-written"))).expect(1);
            assertThat(bad.out()).isEqualTo("missing\t999999\trec-never-written\n");

            // the name moves by a TSIG-signed update (as a runbook's dns step does) and the client follows at once
            dns.setAddress(Shop.NAME, "127.0.20.1");
            assertThat(dns.addresses(Shop.NAME)).containsExactly("127.0.20.1");
            assertThat(client.resolve()).isEqualTo("127.0.20.1");
            dns.setAddress(Shop.NAME, SITE);
            assertThat(client.resolve()).isEqualTo(SITE);

            // the app reconnects after the database restarts
            db.stop();
            assertThat(Shop.get(web.url() + "/health").status()).isEqualTo(503);
            db.start();
            web.awaitHealthy(Duration.ofSeconds(30));
            List<Row> more = client.write(1);
            assertThat(more.get(0).id()).isGreaterThan(written.get(written.size() - 1).id());
            assertThat(appData.resolve("attachments/" + more.get(0).id() + ".txt")).hasContent(more.get(0).body());

            // the app stops: the web front says so (503), its proxy answers 502, the client fails
            app.stop();
            assertThat(app.alive()).isFalse();
            Shop.Http health = Shop.get(web.url() + "/health");
            assertThat(health.status()).isEqualTo(503);
            assertThat(health.body()).contains("the application does not answer");
            assertThat(Shop.get(web.url() + "/api/records").status()).isEqualTo(502);
            assertThat(client.run("health").expect(1).out()).startsWith("503\t");
            assertThat(client.run("read").exit()).isEqualTo(1);
            assertThat(app.log()).contains("ShopApp listening on http://" + SITE + ":" + app.port(), "stopped");

            // and comes back on the same data
            app.start();
            web.awaitHealthy(Duration.ofSeconds(60));
            assertThat(client.read()).hasSize(21);
        }
    }

    @Test
    void thePlanTemplateFillsAndValidates() throws Exception {
        String yaml = Shop.plan(Map.ofEntries(Map.entry("PROTECTED_SITE", "site-a"), Map.entry("RECOVERY_SITE", "site-b"),
                Map.entry("AGENT_A", "agent-a"), Map.entry("AGENT_B", "agent-b"), Map.entry("SITE_A", "127.0.10.1"),
                Map.entry("SITE_B", "127.0.20.1"), Map.entry("SANDBOX", "127.0.30.1"), Map.entry("DATA_A", "/srv/shop-a"),
                Map.entry("DATA_B", "/srv/shop-b"), Map.entry("JAVA", Shop.java().toString()),
                Map.entry("PGJDBC", Shop.jdbcJar().toString()), Map.entry("SHOP", Shop.dir().toString()),
                Map.entry("DNS", "127.0.0.1:5353"), Map.entry("TSIG_KEY", "haven-dr"), Map.entry("TSIG_SECRET", "file:/srv/tsig.key")));
        assertThat(yaml).doesNotContainPattern("\\$\\{[A-Z]").contains("--db ${bind}:5432", "${volume.data}");
        assertThat(Shop.jdbcJar().getFileName().toString()).matches("postgresql-42\\..*\\.jar");
        try {
            DrPlan plan = PlanYaml.parse(yaml, "shop-plan.yaml");
            assertThat(plan.workloads()).hasSize(3);
        } catch (PlanValidationException e) {
            // the placement fields being added to the plan format may not be known yet; nothing else may fail
            assertThat(e.problems()).extracting(Problem::path)
                    .allMatch(p -> p.matches("workloads\\[\\d]\\.(protected|sandboxAddresses)"), "only the new fields: " + e.lines());
        }
    }
}
