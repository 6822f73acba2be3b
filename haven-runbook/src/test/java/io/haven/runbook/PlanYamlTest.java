package io.haven.runbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlanYamlTest {
    /** The example with {@code from} replaced by {@code to} (which must occur exactly once). */
    static String shopWith(String from, String to) {
        String text = Plans.shopYaml();
        assertThat(text.indexOf(from)).as("'%s' occurs in the example", from).isNotNegative();
        assertThat(text.indexOf(from)).as("'%s' occurs once", from).isEqualTo(text.lastIndexOf(from));
        return text.replace(from, to);
    }

    static List<String> problems(String yaml) {
        try {
            PlanYaml.parse(yaml, "plan.yaml");
        } catch (PlanValidationException e) {
            return e.lines();
        }
        throw new AssertionError("the plan was accepted");
    }

    @Test
    void readsTheThreeTierExample() {
        DrPlan plan = Plans.shop();
        assertThat(plan.name()).isEqualTo("shop");
        assertThat(plan.mode()).isEqualTo(Mode.CONTINUOUS);
        assertThat(plan.rpo()).isEqualTo(Duration.ofSeconds(15));
        assertThat(plan.autoRollbackAfter()).isEqualTo(Duration.ofHours(4));
        assertThat(plan.version()).isEqualTo(1);
        assertThat(plan.workloadNames()).containsExactly("db", "app", "web");
        assertThat(plan.workload("db").orElseThrow().probe()).isEqualTo(new Probe.Tcp("10.20.0.10", 5432, Duration.ofMinutes(2)));
        assertThat(plan.workload("app").orElseThrow().postBoot()).containsExactly(
                new PostBootScript("/opt/shop/bin/check-schema", Duration.ofMinutes(2), true));
        assertThat(plan.runbook().steps()).extracting(Step::kind)
                .containsExactly("boot", "delay", "boot", "http", "boot", "approval", "dns", "script");
        Step.DnsUpdate dns = (Step.DnsUpdate) plan.runbook().step("point-www").orElseThrow();
        assertThat(dns.server()).isEqualTo(new HostPort("10.20.0.53", 53));
        assertThat(dns.fqdn()).isEqualTo("www.shop.example.");
        assertThat(dns.value(Direction.TO_RECOVERY)).isEqualTo("10.20.0.12");
        assertThat(dns.tsig().algorithm()).isEqualTo(TsigAlgorithm.HMAC_SHA256);
    }

    @Test
    void writingAndReadingAPlanGivesTheSamePlan() {
        DrPlan plan = Plans.shop();
        String written = PlanYaml.write(plan);
        assertThat(PlanYaml.parse(written, "exported.yaml")).isEqualTo(plan);
        assertThat(PlanYaml.write(PlanYaml.parse(written, "exported.yaml"))).isEqualTo(written);
    }

    @Test
    void roundTripKeepsValuesThatLookLikeOtherTypes() {
        Workload w = new Workload("007", Driver.PROCESS, new Placement("true", List.of("/srv/a b: c", "/srv/#x"), List.of("fd00::1")),
                List.of(new PostBootScript("echo 'yes'\necho no", Duration.ofSeconds(90), false)),
                new Probe.Http("https://[fd00::1]:8443/health?x=1", 204, Duration.ofSeconds(5)),
                java.util.Map.of("port", "5432", "flag", "on", "empty", ""));
        DrPlan plan = new DrPlan("1.5", "on", "null", Mode.AS_NEEDED, Duration.ofDays(1), List.of(w),
                new Runbook(List.of(new Step.BootStep("boot", List.of("007")),
                        new Step.Script("s", new Where.Host("no"), "exit 0", Duration.ofSeconds(1), true, true),
                        new Step.HttpCall("h", "PUT", "http://x.example/a", "{\"state\": \"paused\"}", 200, Duration.ofSeconds(30), false, false))),
                null, 7);
        assertThat(PlanYaml.parse(PlanYaml.write(plan), null)).isEqualTo(plan);
    }

    @Test
    void protectedPlacementSandboxAddressesAndRepositoryRoundTrip() {
        Workload w = new Workload("db", Driver.POSTGRES, new Placement("b1", List.of("/srv/b"), List.of("10.2.0.1")), List.of(),
                new Probe.Tcp("10.2.0.1", 5432, Duration.ofSeconds(30)), java.util.Map.of("port", "5432"),
                new Placement("a1", List.of("/srv/a"), List.of("10.1.0.1")), List.of("10.3.0.1"));
        DrPlan plan = new DrPlan("p", "a", "b", Mode.CONTINUOUS, Duration.ofSeconds(15), List.of(w), Runbook.defaultFor(List.of("db")),
                null, 1, "main", new DrillSchedule("0 3 * * 0", "Europe/Berlin"));
        String text = PlanYaml.write(plan);
        assertThat(text).contains("protected:", "sandboxAddresses:", "repository: main", "drills:", "timeZone: Europe/Berlin");
        assertThat(PlanYaml.parse(text, null)).isEqualTo(plan);
        assertThat(w.placementAt(plan, "a").orElseThrow().host()).isEqualTo("a1");
        assertThat(w.placementAt(plan, "b").orElseThrow().host()).isEqualTo("b1");
    }

    @Test
    void aDrillScheduleNeedsAScheduleAndAKnownZone() {
        String text = Plans.shopYaml().replace("mode: continuous", "mode: continuous\ndrills:\n  timeZone: Mars/Olympus");
        assertThat(problems(text)).containsExactly("plan.yaml:7:3: drills.schedule: is required");
        String zone = Plans.shopYaml().replace("mode: continuous", "mode: continuous\ndrills:\n  schedule: every 7d\n  timeZone: Mars/Olympus");
        assertThat(problems(zone)).singleElement().asString().contains("drills.timeZone: must be a time zone");
    }

    @Test
    void aPlanSetsTheRetentionOfItsCopiesAndCountsLeftOutKeepTheirDefaults() {
        assertThat(Plans.shop().retention()).isEqualTo(CopyRetention.DEFAULT);
        assertThat(PlanYaml.write(Plans.shop())).doesNotContain("retention");
        String text = Plans.shopYaml().replace("mode: continuous", "mode: continuous\nretention:\n  daily: 90\n  monthly: 12\n  hourly: 0");
        DrPlan plan = PlanYaml.parse(text, "plan.yaml");
        assertThat(plan.retention()).isEqualTo(new CopyRetention(10, 0, 90, 0, 12));
        String written = PlanYaml.write(plan);
        assertThat(written).contains("retention:", "daily: 90", "monthly: 12", "hourly: 0", "last: 10");
        assertThat(PlanYaml.parse(written, null)).isEqualTo(plan);
        // an edit keeps it
        assertThat(new PlanEdit.RenameStep("database", "db-first").applyTo(plan).retention()).isEqualTo(plan.retention());
    }

    @Test
    void aRetentionThatKeepsNothingOrIsMistypedIsRefusedWithItsLine() {
        String none = Plans.shopYaml().replace("mode: continuous",
                "mode: continuous\nretention: {last: 0, hourly: 0, daily: 0}");
        assertThat(problems(none)).singleElement().asString().startsWith("plan.yaml:6:").contains("retention: keeps no point but the newest");
        assertThat(problems(Plans.shopYaml().replace("mode: continuous", "mode: continuous\nretention: 30d")))
                .singleElement().asString().startsWith("plan.yaml:6:12: retention: must be a mapping");
        String bad = Plans.shopYaml().replace("mode: continuous",
                "mode: continuous\nretention:\n  last: -1\n  daily: lots\n  yearly: 2\n  weekly: 200000");
        assertThat(problems(bad)).containsExactly(
                "plan.yaml:7:9: retention.last: must be 0..100000, not -1",
                "plan.yaml:8:10: retention.daily: must be a whole number, not the text \"lots\"",
                "plan.yaml:9:3: retention.yearly: unknown field 'yearly' (known here: last, hourly, daily, weekly, monthly)",
                "plan.yaml:10:11: retention.weekly: must be 0..100000, not 200000");
    }

    @Test
    void aStepAloneIsCheckedAtTheLinesOfItsOwnText() {
        assertThat(PlanYaml.validateStep("delay: warm\nduration: 30s\n")).isEmpty();
        assertThat(PlanYaml.validateStep("# a slow one\nscript: s\nwhere: server\ncommand: true\ntimeout: 3 weeks\ncolour: red\n"))
                .extracting(p -> p.format("step.yaml"))
                .containsExactly("step.yaml:5:10: timeout: must be a duration like 15s, 5m, 1h or 1h30m, not \"3 weeks\"",
                        "step.yaml:6:1: colour: unknown field 'colour' (known here: script, where, command, timeout, abortOnFailure, "
                                + "skipInDrill)");
        assertThat(PlanYaml.validateStep("- delay: x\n")).singleElement().asString().contains("must be a mapping with one of boot");
        assertThat(PlanYaml.validateStep("")).singleElement().asString().contains("is empty");
    }

    @Test
    void aSandboxAddressMustNotBeARecoveryAddress() {
        String text = Plans.shopYaml().replace("    recovery:\n      host: dr-db-1", "    sandboxAddresses: [10.20.0.10, nope]\n    recovery:\n      host: dr-db-1");
        assertThatThrownBy(() -> PlanYaml.parse(text, "plan.yaml")).isInstanceOf(PlanValidationException.class)
                .hasMessageContaining("sandboxAddresses[1]: must be an IPv4 or IPv6 address");
    }

    @Test
    void aPlanWithoutARunbookGetsTheDefaultOneBootStepWithAllWorkloads() {
        String text = Plans.shopYaml();
        DrPlan plan = PlanYaml.parse(text.substring(0, text.indexOf("runbook:")), "plan.yaml");
        assertThat(plan.runbook().steps()).containsExactly(new Step.BootStep("boot", List.of("db", "app", "web")));
    }

    @Test
    void fieldsLeftOutGetTheirDocumentedDefaults() {
        DrPlan plan = PlanYaml.parse("""
                name: p
                protectedSite: a
                recoverySite: b
                mode: as-needed
                rpo: 1h
                workloads:
                  - name: w
                    driver: process
                    recovery: {host: h, volumes: /srv/w}
                    probe: {http: "http://h/"}
                    postBoot: [{command: x}]
                runbook:
                  - boot: all
                    workloads: [w]
                  - script: s
                    where: host h
                    command: true
                  - http: h
                    method: post
                    url: http://h/x
                  - approval: ok
                    prompt: go?
                """, null);
        assertThat(plan.version()).isEqualTo(1);
        assertThat(plan.autoRollbackAfter()).isNull();
        Workload w = plan.workloads().get(0);
        assertThat(w.recovery().volumes()).containsExactly("/srv/w");
        assertThat(w.recovery().addresses()).isEmpty();
        assertThat(w.probe()).isEqualTo(new Probe.Http("http://h/", 200, Probe.DEFAULT_TIMEOUT));
        assertThat(w.postBoot()).containsExactly(new PostBootScript("x", PostBootScript.DEFAULT_TIMEOUT, true));
        assertThat(plan.runbook().steps()).containsExactly(
                new Step.BootStep("all", List.of("w")),
                new Step.Script("s", new Where.Host("h"), "true", Step.Script.DEFAULT_TIMEOUT, true, false),
                new Step.HttpCall("h", "POST", "http://h/x", null, 200, Step.HttpCall.DEFAULT_TIMEOUT, true, false),
                new Step.Approval("ok", "go?", Step.Approval.DEFAULT_TIMEOUT, false));
    }

    @Test
    void aBadPortIsReportedWithFileLineColumnAndFieldPath() {
        assertThat(problems(shopWith("port: 5432", "port: 70000")))
                .containsExactly("plan.yaml:18:13: workloads[0].probe.port: must be 1..65535, not 70000");
    }

    @Test
    void everyProblemIsReportedNotOnlyTheFirstInTextOrder() {
        String yaml = shopWith("port: 5432", "port: 0");
        yaml = yaml.replace("timeout: 1m", "timeout: 1x").replace("driver: postgres", "driver: mysql")
                .replace("status: 204", "status: 999").replace("duration: 10s", "duration: 10");
        assertThat(problems(yaml)).containsExactly(
                "plan.yaml:11:13: workloads[0].driver: must be one of process, postgres, not \"mysql\"",
                "plan.yaml:18:13: workloads[0].probe.port: must be 1..65535, not 0",
                "plan.yaml:32:16: workloads[1].probe.timeout: must be a duration like 15s, 5m, 1h or 1h30m, not \"1x\"",
                "plan.yaml:54:15: runbook[1].duration: needs a unit: 10s, 10m or 10h",
                "plan.yaml:60:13: runbook[3].status: must be 100..599, not 999");
    }

    /** A step's range problems are reported beside the problems the reader finds in it, not after they are fixed. */
    @Test
    void aStepsRangeProblemsAreReportedBesideItsOtherProblems() {
        assertThat(problems(shopWith("    status: 204\n", "    status: 999\n    colour: red\n"))).containsExactly(
                "plan.yaml:60:13: runbook[3].status: must be 100..599, not 999",
                "plan.yaml:61:5: runbook[3].colour: unknown field 'colour' (known here: http, method, url, body, status, timeout, "
                        + "abortOnFailure, skipInDrill)");
        // a missing required value is reported once, by the reader, with the range problem beside it
        assertThat(problems(shopWith("    url: http://10.20.0.11:8080/admin/scheduler/resume\n    status: 204\n", "    status: 999\n")))
                .containsExactly("plan.yaml:57:5: runbook[3].url: is required", "plan.yaml:59:13: runbook[3].status: must be 100..599, not 999");
    }

    @Test
    void unknownFieldsAreErrorsWithASuggestion() {
        assertThat(problems(shopWith("    probe:\n      tcp: 10.20.0.10", "    prob:\n      tcp: 10.20.0.10"))).containsExactly(
                "plan.yaml:10:5: workloads[0].probe: is required",
                "plan.yaml:16:5: workloads[0].prob: unknown field 'prob'; did you mean 'probe'?");
        assertThat(problems(shopWith("mode: continuous", "mode: continuous\ncolour: blue"))).containsExactly(
                "plan.yaml:6:1: colour: unknown field 'colour' (known here: name, protectedSite, recoverySite, mode, rpo, "
                        + "autoRollbackAfter, version, repository, drills, retention, workloads, runbook)");
    }

    @Test
    void wrongTypesSayWhatWasFoundAndWhatIsWanted() {
        assertThat(problems(shopWith("abortOnFailure: false", "abortOnFailure: maybe")))
                .containsExactly("plan.yaml:86:21: runbook[7].abortOnFailure: must be true or false, not the text \"maybe\"");
        assertThat(problems(shopWith("ttl: 60", "ttl: sixty")))
                .containsExactly("plan.yaml:75:10: runbook[6].ttl: must be a whole number, not the text \"sixty\"");
        assertThat(problems(shopWith("    workloads: [db]", "    workloads: {db: 1}")))
                .containsExactly("plan.yaml:52:16: runbook[0].workloads: must be a list, not a mapping");
        assertThat(problems(shopWith("    recovery:\n      host: dr-db-1\n      volumes: [/srv/shop/pg]\n      addresses: [10.20.0.10]\n",
                "    recovery: dr-db-1\n")))
                .containsExactly("plan.yaml:12:15: workloads[0].recovery: must be a mapping (key: value lines), not the text \"dr-db-1\"");
    }

    @Test
    void missingRequiredFieldsAreNamed() {
        assertThat(problems(shopWith("      key: haven-dr\n", "")))
                .containsExactly("plan.yaml:79:7: runbook[6].tsig.key: is required");
        assertThat(problems(shopWith("rpo: 15s\n", "")))
                .containsExactly("plan.yaml:2:1: rpo: is required");
    }

    @Test
    void durationsAndTimeoutsOutOfRangeAreRefused() {
        assertThat(problems(shopWith("rpo: 15s", "rpo: 5s")))
                .containsExactly("plan.yaml:6:6: rpo: must be from 10s to 7d, not 5s");
        assertThat(problems(shopWith("timeout: 2m\n    options", "timeout: 2h\n    options")))
                .containsExactly("plan.yaml:19:16: workloads[0].probe.timeout: must be from 1s to 1h, not 2h");
        assertThat(problems(shopWith("timeout: 1h", "timeout: 30s")))
                .containsExactly("plan.yaml:68:14: runbook[5].timeout: must be from 1m to 7d, not 30s");
    }

    @Test
    void planLevelProblemsAreReportedBesideProblemsAtOtherLevels() {
        // a plan field (rpo), a workload's probe and a step's timeout, each out of range
        String yaml = shopWith("rpo: 15s", "rpo: 5s").replace("status: 200", "status: 999")
                .replace("    timeout: 30s\n    abortOnFailure: false", "    timeout: 48h\n    abortOnFailure: false");
        assertThat(problems(yaml)).containsExactly(
                "plan.yaml:6:6: rpo: must be from 10s to 7d, not 5s",
                "plan.yaml:31:15: workloads[1].probe.status: must be 100..599, not 999",
                "plan.yaml:85:14: runbook[7].timeout: must be from 1s to 1d, not 2d");
        // the same for autoRollbackAfter and a recovery site equal to the protected one, beside a bad step
        String more = shopWith("autoRollbackAfter: 4h", "autoRollbackAfter: 10s").replace("recoverySite: dr", "recoverySite: hq")
                .replace("duration: 10s", "duration: 0s");
        assertThat(problems(more)).containsExactly(
                "plan.yaml:4:15: recoverySite: must differ from the protected site (hq)",
                "plan.yaml:7:20: autoRollbackAfter: must be from 1m to 30d, not 10s",
                "plan.yaml:54:15: runbook[1].duration: must be from 1s to 1d, not 0s");
    }

    @Test
    void duplicateNamesAreReportedAtTheSecondOne() {
        assertThat(problems(shopWith("  - name: web", "  - name: app").replace("workloads: [web]", "workloads: []")))
                .containsExactly("plan.yaml:40:11: workloads[2].name: workload name 'app' is taken by workloads[1]; workload names are unique");
        assertThat(problems(shopWith("- boot: front", "- boot: database")))
                .containsExactly("plan.yaml:63:11: runbook[4].boot: step name 'database' is taken by runbook[0]; step names are unique");
    }

    @Test
    void everyWorkloadBootsInExactlyOneStepOfThisPlan() {
        assertThat(problems(shopWith("workloads: [web]", "workloads: []")))
                .containsExactly("plan.yaml:40:5: workloads[2]: workload 'web' is in no boot step; add it to one (a boot step's workloads list)");
        assertThat(problems(shopWith("workloads: [web]", "workloads: [web, db]"))).containsExactly(
                "plan.yaml:64:22: runbook[4].workloads[1]: workload 'db' is already in boot step 'database' (runbook[0]); a workload boots in exactly one step");
        assertThat(problems(shopWith("workloads: [web]", "workloads: [web, cache]")))
                .containsExactly("plan.yaml:64:22: runbook[4].workloads[1]: no workload named 'cache' in this plan (it has: app, db, web)");
    }

    @Test
    void crossRulesAreCheckedEvenWhenAWorkloadIsBroken() {
        assertThat(problems(shopWith("port: 5432", "port: -1").replace("workloads: [web]", "workloads: []"))).containsExactly(
                "plan.yaml:18:13: workloads[0].probe.port: must be 1..65535, not -1",
                "plan.yaml:40:5: workloads[2]: workload 'web' is in no boot step; add it to one (a boot step's workloads list)");
    }

    @Test
    void addressesUrlsAndDnsValuesAreChecked() {
        assertThat(problems(shopWith("addresses: [10.20.0.11]", "addresses: [10.20.0.300]")))
                .containsExactly("plan.yaml:28:19: workloads[1].recovery.addresses[0]: must be an IPv4 or IPv6 address, not \"10.20.0.300\"");
        assertThat(problems(shopWith("http: http://10.20.0.11:8080/health", "http: 10.20.0.11:8080/health")))
                .containsExactly("plan.yaml:30:13: workloads[1].probe.http: must be an http:// or https:// URL, not \"10.20.0.11:8080/health\"");
        assertThat(problems(shopWith("toRecovery: 10.20.0.12", "toRecovery: fd00::12")))
                .containsExactly("plan.yaml:76:17: runbook[6].toRecovery: must be an IPv4 address for an A record, not \"fd00::12\"");
        assertThat(problems(shopWith("server: 10.20.0.53:53", "server: 10.20.0.53:99999")))
                .containsExactly("plan.yaml:71:13: runbook[6].server: port must be 1..65535, not 99999");
        assertThat(problems(shopWith("volumes: [/srv/shop/web]", "volumes: [srv/web]")))
                .containsExactly("plan.yaml:44:17: workloads[2].recovery.volumes[0]: must be an absolute path, not \"srv/web\"");
    }

    @Test
    void aTsigSecretMustBeAReferenceNeverTheSecretItself() {
        assertThat(problems(shopWith("secret: file:/etc/haven/tsig/haven-dr.key", "secret: c2VjcmV0c2VjcmV0")))
                .containsExactly("plan.yaml:81:15: runbook[6].tsig.secret: must say where the secret is: env:VARIABLE or file:/path (never the secret itself)");
    }

    @Test
    void aStepNeedsExactlyOneKind() {
        assertThat(problems(shopWith("  - delay: let-replicas-settle", "  - pause: let-replicas-settle"))).containsExactly(
                "plan.yaml:53:5: runbook[1]: a step needs one of boot, delay, script, dns, http, approval");
        assertThat(problems(shopWith("  - delay: let-replicas-settle", "  - delay: let-replicas-settle\n    boot: x"))).containsExactly(
                "plan.yaml:54:5: runbook[1].boot: a step has exactly one of boot, delay, script, dns, http, approval, but this one also has delay");
        assertThat(problems(shopWith("  - delay: let-replicas-settle", "  - delya: let-replicas-settle"))).containsExactly(
                "plan.yaml:53:5: runbook[1]: a step needs one of boot, delay, script, dns, http, approval (is 'delya' meant to be 'delay'?)");
    }

    @Test
    void yamlSyntaxErrorsAndDuplicateKeysAreLocated() {
        assertThat(problems("name: [shop\nmode: x\n")).singleElement().asString()
                .startsWith("plan.yaml:2:5: not valid YAML: while parsing a flow sequence");
        assertThat(problems(shopWith("rpo: 15s", "rpo: 15s\nrpo: 1m"))).containsExactly(
                "plan.yaml:7:1: key 'rpo' appears twice in one mapping (first on line 6)");
        assertThat(problems("")).containsExactly("plan.yaml: the plan is empty");
        assertThat(problems("- a\n- b\n")).containsExactly("plan.yaml:1:1: must be a mapping (key: value lines), not a list");
    }

    @Test
    void theExceptionCarriesTheProblemsAndSaysHowManyThereAre() {
        String yaml = shopWith("port: 5432", "port: 0").replace("status: 204", "status: 1");
        assertThatThrownBy(() -> PlanYaml.parse(yaml, "plan.yaml"))
                .isInstanceOfSatisfying(PlanValidationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.USAGE);
                    assertThat(e.source()).isEqualTo("plan.yaml");
                    assertThat(e.problems()).extracting(Problem::path)
                            .containsExactly("workloads[0].probe.port", "runbook[3].status");
                    assertThat(e.problems().get(0).line()).isEqualTo(18);
                    assertThat(e.getMessage()).startsWith("plan.yaml is not a valid DR plan (2 problems): plan.yaml:18:13:");
                });
        assertThat(PlanYaml.validate(yaml)).hasSize(2);
        assertThat(PlanYaml.validate(Plans.shopYaml())).isEmpty();
    }
}
