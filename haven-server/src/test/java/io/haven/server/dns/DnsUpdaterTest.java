package io.haven.server.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.haven.core.ErrorCode;
import io.haven.server.dns.DnsUpdateException.Failure;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;

/** {@link Rfc2136Updater} against a real BIND 9 on loopback ({@link LocalBind}). */
class DnsUpdaterTest {
    private static final String SITE_A = "192.0.2.10";
    private static final String SITE_B = "198.51.100.20";
    private static final LocalBind.Key HAVEN = LocalBind.Key.random("haven");
    private static final LocalBind.Key OTHER = LocalBind.Key.random("other");
    private static LocalBind bind;

    private final DnsUpdater updater = new Rfc2136Updater(InstantSource.system());

    @BeforeAll
    static void startBind() throws Exception {
        if (LocalBind.named() == null) {
            return; // each test is skipped with the reason by needsBind()
        }
        bind = LocalBind.start(List.of(HAVEN, OTHER), List.of(
                new LocalBind.Zone("example.test", "grant haven zonesub ANY;", """
                        app     IN A     192.0.2.10
                        api     IN A     192.0.2.10
                        pool    IN A     192.0.2.10
                        pool    IN A     192.0.2.11
                        bad     IN A     192.0.2.10
                        racy    IN A     192.0.2.10
                        one     IN A     192.0.2.10
                        two     IN A     192.0.2.10
                        ipv6    IN AAAA  2001:db8::10
                        app-a   IN A     192.0.2.10
                        app-b   IN A     198.51.100.20
                        www     IN CNAME app-a
                        """),
                new LocalBind.Zone("locked.test", "grant other zonesub ANY;", """
                        app     IN A     192.0.2.10
                        """),
                // the narrow policy docs/dns.md recommends: this key, this name, these types
                new LocalBind.Zone("narrow.test", "grant haven name app.narrow.test. A AAAA;", """
                        app     IN A     192.0.2.10
                        db      IN A     192.0.2.10
                        """)));
    }

    @BeforeEach
    void needsBind() {
        LocalBind.assumeAvailable();
    }

    @AfterAll
    static void stopBind() throws Exception {
        if (bind != null) {
            bind.close();
        }
    }

    private static DnsChange change(String zone, String name, RecordType type, int ttl, List<String> values, TsigKey key) {
        return new DnsChange(bind.server(), zone, name, type, Duration.ofSeconds(ttl), values, key, null, Duration.ofSeconds(5));
    }

    private static DnsChange change(String name, RecordType type, int ttl, String... values) {
        return change("example.test", name, type, ttl, List.of(values), HAVEN.tsig());
    }

    @Test
    void switchesAnAddressRecordToTheRecoverySiteAndBackRestoringWhatWasThere() throws Exception {
        DnsChange toB = change("app", RecordType.A, 60, SITE_B).withPrerequisite(Prerequisite.exactly(SITE_A));

        DnsUpdater.Result failover = updater.update(toB);

        assertThat(bind.query("app.example.test", RecordType.A)).isEqualTo(new LocalBind.Answer(List.of(SITE_B), 60));
        assertThat(failover.previous()).containsExactly(SITE_A);
        assertThat(failover.previousTtl()).isEqualTo(Duration.ofSeconds(300));
        assertThat(failover.change().name()).isEqualTo("app.example.test.");
        assertThat(failover.updateTime()).isPositive();
        assertThat(failover.totalTime()).isGreaterThanOrEqualTo(failover.updateTime().plus(failover.verifyTime()));

        DnsChange back = failover.undo();
        assertThat(back.values()).containsExactly(SITE_A);
        assertThat(back.prerequisite()).isEqualTo(new Prerequisite.Exactly(List.of(SITE_B)));
        DnsUpdater.Result failback = updater.update(back);

        assertThat(bind.query("app.example.test", RecordType.A)).isEqualTo(new LocalBind.Answer(List.of(SITE_A), 300));
        assertThat(failback.previous()).containsExactly(SITE_B);
        assertThat(failback.previousTtl()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void replacesACnameTarget() throws Exception {
        DnsUpdater.Result r = updater.update(change("www.example.test.", RecordType.CNAME, 120, "app-b.example.test"));

        assertThat(r.previous()).containsExactly("app-a.example.test.");
        assertThat(bind.query("www.example.test", RecordType.CNAME))
                .isEqualTo(new LocalBind.Answer(List.of("app-b.example.test."), 120));
    }

    @Test
    void replacesTheWholeRrsetWithTheGivenTtl() throws Exception {
        DnsUpdater.Result r = updater.update(change("pool", RecordType.A, 30, "203.0.113.1", "203.0.113.2", "203.0.113.3"));

        assertThat(r.previous()).containsExactlyInAnyOrder("192.0.2.10", "192.0.2.11");
        LocalBind.Answer now = bind.query("pool.example.test", RecordType.A);
        assertThat(now.values()).containsExactlyInAnyOrder("203.0.113.1", "203.0.113.2", "203.0.113.3");
        assertThat(now.ttl()).isEqualTo(30);
    }

    @Test
    void changesAnIpv6Record() throws Exception {
        DnsUpdater.Result r = updater.update(change("ipv6", RecordType.AAAA, 60, "2001:DB8:0:0:0:0:0:20"));

        assertThat(r.previous()).containsExactly("2001:db8::10");
        assertThat(r.change().values()).containsExactly("2001:db8::20");
        assertThat(bind.query("ipv6.example.test", RecordType.AAAA).values()).containsExactly("2001:db8::20");
    }

    @Test
    void createsARecordThatDidNotExistAndItsUndoRemovesIt() throws Exception {
        DnsUpdater.Result r = updater.update(change("fresh", RecordType.A, 60, SITE_B).withPrerequisite(Prerequisite.absent()));

        assertThat(r.previous()).isEmpty();
        assertThat(r.previousTtl()).isNull();
        assertThat(bind.query("fresh.example.test", RecordType.A).values()).containsExactly(SITE_B);

        DnsChange undo = r.undo();
        assertThat(undo.values()).isEmpty();
        updater.update(undo);

        assertThat(bind.query("fresh.example.test", RecordType.A).values()).isEmpty();
    }

    @Test
    void aWrongSecretIsRejectedAsBadSignatureAndChangesNothing() throws Exception {
        TsigKey wrong = new TsigKey("haven", "hmac-sha256", OTHER.secret());

        DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class,
                () -> updater.update(change("example.test", "bad", RecordType.A, 60, List.of(SITE_B), wrong)));

        assertThat(e.failure()).isEqualTo(Failure.TSIG_REJECTED);
        assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
        assertThat(e.isTransient()).isFalse();
        assertThat(e.getMessage()).contains("BADSIG", "haven.", "secret", "bad.example.test. A", bind.server().toString())
                .doesNotContain(OTHER.secret());
        assertThat(bind.query("bad.example.test", RecordType.A).values()).containsExactly(SITE_A);
    }

    @Test
    void aCheckChangesNothingAndFindsAWrongSecretBeforeAnyUpdate() throws Exception {
        long serial = bind.serial("example.test");
        assertThat(updater.check(change("example.test", "bad", RecordType.A, 60, List.of(SITE_B), HAVEN.tsig()))).containsExactly(SITE_A);
        assertThat(updater.check(change("example.test", "nothing-here", RecordType.A, 60, List.of(SITE_B), HAVEN.tsig()))).isEmpty();
        assertThat(bind.query("bad.example.test", RecordType.A).values()).containsExactly(SITE_A);
        assertThat(bind.serial("example.test")).isEqualTo(serial); // not even the serial moved

        TsigKey wrong = new TsigKey("haven", "hmac-sha256", OTHER.secret());
        DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class,
                () -> updater.check(change("example.test", "bad", RecordType.A, 60, List.of(SITE_B), wrong)));
        assertThat(e.failure()).isEqualTo(Failure.TSIG_REJECTED);
        assertThat(e.getMessage()).contains("BADSIG");
    }

    @Test
    void anUnknownKeyNameIsRejectedAsBadKey() throws Exception {
        TsigKey unknown = new TsigKey("nobody", "hmac-sha256", HAVEN.secret());

        assertThatThrownBy(() -> updater.update(change("example.test", "bad", RecordType.A, 60, List.of(SITE_B), unknown)))
                .isInstanceOfSatisfying(DnsUpdateException.class, e -> assertThat(e.failure()).isEqualTo(Failure.TSIG_REJECTED))
                .hasMessageContaining("BADKEY").hasMessageContaining("no key of this name");
        assertThat(bind.query("bad.example.test", RecordType.A).values()).containsExactly(SITE_A);
    }

    @Test
    void aClockFarOffIsRejectedAsBadTime() throws Exception {
        DnsUpdater late = new Rfc2136Updater(InstantSource.fixed(Instant.now().minus(Duration.ofHours(1))));

        assertThatThrownBy(() -> late.update(change("bad", RecordType.A, 60, SITE_B)))
                .isInstanceOfSatisfying(DnsUpdateException.class, e -> assertThat(e.failure()).isEqualTo(Failure.TSIG_REJECTED))
                .hasMessageContaining("BADTIME").hasMessageContaining("NTP");
        assertThat(bind.query("bad.example.test", RecordType.A).values()).containsExactly(SITE_A);
    }

    @Test
    void aKeyNotGrantedTheZoneIsRefused() throws Exception {
        DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class,
                () -> updater.update(change("locked.test", "app", RecordType.A, 60, List.of(SITE_B), HAVEN.tsig())));

        assertThat(e.failure()).isEqualTo(Failure.REFUSED);
        assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(e.getMessage()).contains("REFUSED", "update-policy", "key haven.", "app.locked.test. A");
        assertThat(bind.query("app.locked.test", RecordType.A).values()).containsExactly(SITE_A);
    }

    @Test
    void aPolicyForOneNameAllowsThatNameAndRefusesTheOthers() throws Exception {
        updater.update(change("narrow.test", "app", RecordType.A, 60, List.of(SITE_B), HAVEN.tsig()));

        assertThatThrownBy(() -> updater.update(change("narrow.test", "db", RecordType.A, 60, List.of(SITE_B), HAVEN.tsig())))
                .isInstanceOfSatisfying(DnsUpdateException.class, e -> assertThat(e.failure()).isEqualTo(Failure.REFUSED));
        assertThat(bind.query("app.narrow.test", RecordType.A).values()).containsExactly(SITE_B);
        assertThat(bind.query("db.narrow.test", RecordType.A).values()).containsExactly(SITE_A);
    }

    @Test
    void aZoneTheServerDoesNotServeIsReportedAsNoSuchZone() {
        DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class,
                () -> updater.update(change("nope.test", "app", RecordType.A, 60, List.of(SITE_B), HAVEN.tsig())));

        assertThat(e.failure()).isEqualTo(Failure.NO_SUCH_ZONE);
        assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(e.getMessage()).contains("does not serve the zone nope.test.");
    }

    @Test
    void aNameInsideAZoneIsNotTakenForAZone() throws Exception {
        DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class,
                () -> updater.update(change("sub.example.test", "app", RecordType.A, 60, List.of(SITE_B), HAVEN.tsig())));

        assertThat(e.failure()).isEqualTo(Failure.NO_SUCH_ZONE);
        assertThat(e.getMessage()).contains("sub.example.test. is not a zone on this server", "does not exist in the zone example.test.");
        assertThat(bind.query("app.sub.example.test", RecordType.A).values()).isEmpty();
    }

    @Test
    void aPrerequisiteThatNoLongerHoldsChangesNothingAndNamesWhatIsThere() throws Exception {
        DnsChange stale = change("racy", RecordType.A, 60, SITE_B).withPrerequisite(Prerequisite.exactly("203.0.113.99"));

        DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class, () -> updater.update(stale));

        assertThat(e.failure()).isEqualTo(Failure.PREREQUISITE_FAILED);
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(e.getMessage()).contains("NXRRSET", "expected exactly 203.0.113.99", "the server has 192.0.2.10 (TTL 300 s)",
                "someone else changed the record");
        assertThat(bind.query("racy.example.test", RecordType.A)).isEqualTo(new LocalBind.Answer(List.of(SITE_A), 300));
    }

    @Test
    void anAbsentPrerequisiteFailsWhenTheRecordExists() throws Exception {
        DnsChange create = change("racy", RecordType.A, 60, SITE_B).withPrerequisite(Prerequisite.absent());

        assertThatThrownBy(() -> updater.update(create))
                .isInstanceOfSatisfying(DnsUpdateException.class, e -> assertThat(e.failure()).isEqualTo(Failure.PREREQUISITE_FAILED))
                .hasMessageContaining("expected no record");
        assertThat(bind.query("racy.example.test", RecordType.A).values()).containsExactly(SITE_A);
    }

    @Test
    void aCnameTheServerIgnoresIsReportedAsNotApplied() {
        // BIND answers NOERROR but ignores a CNAME added beside an A record: only the query after shows it
        DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class,
                () -> updater.update(change("api", RecordType.CNAME, 60, "app-b.example.test.")));

        assertThat(e.failure()).isEqualTo(Failure.NOT_APPLIED);
        assertThat(e.getMessage()).contains("accepted the update but now serves no record instead of app-b.example.test. (TTL 60 s)",
                "beside other records");
    }

    @Test
    void twoRecordsUpdatedAtOnceBothApply() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<DnsUpdater.Result>> results = new ArrayList<>();
            for (String name : List.of("one", "two")) {
                results.add(pool.submit(() -> {
                    go.await();
                    return updater.update(change(name, RecordType.A, 60, SITE_B).withPrerequisite(Prerequisite.exactly(SITE_A)));
                }));
            }
            go.countDown();
            for (Future<DnsUpdater.Result> f : results) {
                assertThat(f.get().previous()).containsExactly(SITE_A);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(bind.query("one.example.test", RecordType.A).values()).containsExactly(SITE_B);
        assertThat(bind.query("two.example.test", RecordType.A).values()).containsExactly(SITE_B);
    }

    @Test
    void aStoppedServerIsATransientErrorWellWithinTheTimeout() throws Exception {
        DnsServer down;
        try (LocalBind gone = LocalBind.start(List.of(HAVEN), List.of(new LocalBind.Zone("example.test", null, "")))) {
            down = gone.server();
        }
        DnsChange c = new DnsChange(down, "example.test", "app", RecordType.A, Duration.ofSeconds(60), List.of(SITE_B),
                HAVEN.tsig(), null, Duration.ofSeconds(3));

        long t0 = System.nanoTime();
        DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class, () -> updater.update(c));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);

        assertThat(e.failure()).isEqualTo(Failure.UNREACHABLE);
        assertThat(e.isTransient()).isTrue();
        assertThat(e.code()).isEqualTo(ErrorCode.IO);
        assertThat(e.getMessage()).contains("refused the TCP connection", "port " + down.port(), "This may pass");
        assertThat(took).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void aServerThatNeverAnswersTimesOutAsTransient() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> held = Collections.synchronizedList(new ArrayList<>());
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                    }
                } catch (Exception closed) {
                    // the test is over
                }
            });
            DnsChange c = new DnsChange(new DnsServer("127.0.0.1", silent.getLocalPort()), "example.test", "app", RecordType.A,
                    Duration.ofSeconds(60), List.of(SITE_B), HAVEN.tsig(), null, Duration.ofMillis(1500));

            long t0 = System.nanoTime();
            DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class, () -> updater.update(c));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(e.failure()).isEqualTo(Failure.UNREACHABLE);
            assertThat(e.isTransient()).isTrue();
            assertThat(e.getMessage()).contains("no answer", "within 1500 ms");
            assertThat(took).isBetween(Duration.ofMillis(1400), Duration.ofMillis(3000));
            silent.close();
            acceptor.join();
            for (Socket s : held) {
                s.close();
            }
        }
    }
    @Test
    void anUnsignedAnswerIsRefusedAsPossiblyForged() throws Exception {
        // a server that answers every query authoritatively, with a record, but without TSIG
        try (ServerSocket forger = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofVirtual().start(() -> {
                try (Socket s = forger.accept()) {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    byte[] query = new byte[in.readUnsignedShort()];
                    in.readFully(query);
                    Message q = new Message(query);
                    Message a = new Message(q.getHeader().getID());
                    a.getHeader().setFlag(Flags.QR);
                    a.getHeader().setFlag(Flags.AA);
                    a.addRecord(q.getQuestion(), Section.QUESTION);
                    a.addRecord(new SOARecord(q.getQuestion().getName(), DClass.IN, 300, Name.fromString("ns.example.test."),
                            Name.fromString("h.example.test."), 1, 3600, 600, 86400, 60), Section.ANSWER);
                    byte[] wire = a.toWire();
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    out.writeShort(wire.length);
                    out.write(wire);
                    out.flush();
                } catch (Exception closed) {
                    // the test is over
                }
            });
            DnsChange c = new DnsChange(new DnsServer("127.0.0.1", forger.getLocalPort()), "example.test", "app", RecordType.A,
                    Duration.ofSeconds(60), List.of(SITE_B), HAVEN.tsig(), null, Duration.ofSeconds(3));

            DnsUpdateException e = catchThrowableOfType(DnsUpdateException.class, () -> updater.update(c));

            assertThat(e.failure()).isEqualTo(Failure.BAD_RESPONSE);
            assertThat(e.getMessage()).contains("is not signed with the TSIG key haven.", "forged");
            forger.close();
            server.join();
        }
    }
}
