package io.haven.repository.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class MasterKeyTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final MasterKey key = new MasterKey(material(1));

    private static byte[] material(int seed) {
        byte[] m = new byte[MasterKey.LENGTH];
        new Random(seed).nextBytes(m);
        return m;
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] repetitive(int size) {
        byte[] unit = "hello haven, hello backups! ".getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = unit[i % unit.length];
        }
        return b;
    }

    private static void assertCorrupt(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(HavenException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPT));
    }

    @Test
    void sealedPayloadsOpenToTheSameBytes() {
        byte[][] payloads = {new byte[0], "a small payload".getBytes(StandardCharsets.UTF_8), repetitive(1 << 20),
                random(200_000, 3), new byte[65], random(64, 4)};
        for (byte[] p : payloads) {
            byte[] sealed = key.seal(p);
            assertThat(key.open(sealed, "test")).as("payload of %d bytes", p.length).isEqualTo(p);
            assertThat(key.open(sealed, 0, sealed.length, p.length, "test")).isEqualTo(p);
        }
    }

    @Test
    void emptyPayloadTakesOnlyTheOverhead() {
        byte[] sealed = key.seal(new byte[0]);
        assertThat(sealed).hasSize(MasterKey.OVERHEAD);
        assertThat(key.open(sealed, "empty")).isEmpty();
    }

    @Test
    void compressiblePayloadIsStoredCompressed() {
        byte[] payload = repetitive(1 << 20);
        byte[] sealed = key.seal(payload);
        assertThat(sealed.length).isLessThan(payload.length / 20);
        assertThat(key.open(sealed, "repetitive")).isEqualTo(payload);
    }

    @Test
    void compressionCanBeTurnedOff() {
        byte[] payload = repetitive(10_000);
        byte[] sealed = key.seal(payload, 0, payload.length, false);
        assertThat(sealed).hasSize(payload.length + MasterKey.OVERHEAD);
        assertThat(key.open(sealed, "raw")).isEqualTo(payload);
    }

    @Test
    void incompressiblePayloadIsStoredRaw() {
        byte[] payload = random(100_000, 5);
        assertThat(key.seal(payload)).hasSize(payload.length + MasterKey.OVERHEAD);
    }

    @Test
    void sealsASliceOfAnArray() {
        byte[] buf = random(1000, 6);
        byte[] sealed = key.seal(buf, 100, 300, true);
        assertThat(key.open(sealed, "slice")).isEqualTo(Arrays.copyOfRange(buf, 100, 400));
    }

    @Test
    void sealingTwiceUsesFreshNonces() {
        byte[] payload = "same payload".getBytes(StandardCharsets.UTF_8);
        byte[] a = key.seal(payload);
        byte[] b = key.seal(payload);
        assertThat(a).isNotEqualTo(b);
        assertThat(Arrays.copyOf(a, MasterKey.NONCE)).isNotEqualTo(Arrays.copyOf(b, MasterKey.NONCE));
    }

    @Test
    void anyTamperingIsDetected() {
        byte[] small = key.seal("twenty bytes of data".getBytes(StandardCharsets.UTF_8));
        for (int bit = 0; bit < small.length * 8; bit++) {
            byte[] t = small.clone();
            t[bit / 8] ^= (byte) (1 << (bit % 8));
            assertCorrupt(() -> key.open(t, "tampered"));
        }

        byte[] large = key.seal(repetitive(200_000));
        byte[] larger = key.seal(random(50_000, 8));
        for (byte[] sealed : new byte[][] {large, larger}) {
            int bits = sealed.length * 8;
            for (int bit = 0; bit < bits; bit += bits / 499 + 1) {
                byte[] t = sealed.clone();
                t[bit / 8] ^= (byte) (1 << (bit % 8));
                assertCorrupt(() -> key.open(t, "tampered"));
            }
            // the last bit (in the tag) too
            byte[] t = sealed.clone();
            t[t.length - 1] ^= (byte) 0x80;
            assertCorrupt(() -> key.open(t, "tampered"));
        }
    }

    @Test
    void truncationIsDetected() {
        byte[] sealed = key.seal("a payload that will be cut short".getBytes(StandardCharsets.UTF_8));
        for (int len = 0; len < sealed.length; len++) {
            byte[] t = Arrays.copyOf(sealed, len);
            assertCorrupt(() -> key.open(t, "truncated"));
        }
        byte[] big = key.seal(repetitive(100_000));
        assertCorrupt(() -> key.open(Arrays.copyOf(big, big.length - 1), "truncated"));
        assertCorrupt(() -> key.open(Arrays.copyOf(big, big.length + 1), "extended"));
    }

    @Test
    void anotherKeyCannotOpen() {
        MasterKey other = new MasterKey(material(2));
        for (byte[] p : new byte[][] {new byte[0], repetitive(5000), random(5000, 9)}) {
            byte[] sealed = key.seal(p);
            assertCorrupt(() -> other.open(sealed, "foreign"));
        }
    }

    @Test
    void sameMaterialOpensWhatTheOtherInstanceSealed() {
        MasterKey twin = new MasterKey(material(1));
        byte[] payload = repetitive(4000);
        assertThat(twin.open(key.seal(payload), "twin")).isEqualTo(payload);
    }

    @Test
    void aWrongExpectedLengthOfACompressedPayloadIsCorrupt() {
        byte[] payload = repetitive(50_000);
        byte[] sealed = key.seal(payload);
        assertThat(sealed.length).isLessThan(payload.length);
        assertCorrupt(() -> key.open(sealed, 0, sealed.length, payload.length - 1, "short"));
        assertCorrupt(() -> key.open(sealed, 0, sealed.length, payload.length + 1, "long"));
    }

    @Test
    void blobIdIsDeterministicAndDependsOnTheKey() {
        byte[] payload = random(10_000, 10);
        BlobId id = key.blobId(payload, 0, payload.length);
        assertThat(key.blobId(payload.clone(), 0, payload.length)).isEqualTo(id);
        assertThat(new MasterKey(material(1)).blobId(payload, 0, payload.length)).isEqualTo(id);
        assertThat(new MasterKey(material(2)).blobId(payload, 0, payload.length)).isNotEqualTo(id);
        assertThat(key.blobId(payload, 0, payload.length - 1)).isNotEqualTo(id);
        // a slice has the id of the same bytes on their own
        assertThat(key.blobId(payload, 10, 100)).isEqualTo(key.blobId(Arrays.copyOfRange(payload, 10, 110), 0, 100));
        // and it is not a plain hash of the content
        assertThat(id).isNotEqualTo(ObjectHash.of(payload));
    }

    @Test
    void blobIdIsHmacSha256WithTheSecondHalfOfTheKey() throws Exception {
        byte[] m = material(1);
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(Arrays.copyOfRange(m, 32, 64), "HmacSHA256"));
        byte[] payload = "content".getBytes(StandardCharsets.UTF_8);
        assertThat(key.blobId(payload, 0, payload.length)).isEqualTo(BlobId.of(mac.doFinal(payload)));
    }

    @Test
    void sealedObjectsFollowTheFormat() throws Exception {
        // nonce ‖ AES-256-GCM(enc_key = first half, flag ‖ payload) ‖ tag
        byte[] m = material(1);
        byte[] payload = random(500, 11);
        byte[] sealed = key.seal(payload);
        javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
        c.init(javax.crypto.Cipher.DECRYPT_MODE, new javax.crypto.spec.SecretKeySpec(m, 0, 32, "AES"),
                new javax.crypto.spec.GCMParameterSpec(128, sealed, 0, MasterKey.NONCE));
        byte[] plain = c.doFinal(sealed, MasterKey.NONCE, sealed.length - MasterKey.NONCE);
        assertThat(plain[0]).isZero();
        assertThat(Arrays.copyOfRange(plain, 1, plain.length)).isEqualTo(payload);
    }

    @Test
    void refusesMaterialOfTheWrongLength() {
        assertCorrupt(() -> new MasterKey(new byte[32]));
    }

    @Test
    void materialIsACopy() {
        byte[] m = material(1);
        MasterKey k = new MasterKey(m);
        byte[] out = k.material();
        assertThat(out).isEqualTo(m);
        out[0] ^= 1;
        m[1] ^= 1;
        assertThat(k.material()).isEqualTo(material(1));
    }

    @Test
    void sealIntoWritesAtTheOffsetAndOpensLikeSeal() {
        byte[] text = repetitive(100_000);
        byte[] noise = random(5_000, 9);
        byte[] out = new byte[7 + text.length + MasterKey.OVERHEAD];
        Arrays.fill(out, (byte) 0x5a);
        int n = key.sealInto(text, 0, text.length, true, out, 7);
        assertThat(n).isLessThan(text.length / 10);
        assertThat(Arrays.copyOfRange(out, 0, 7)).containsOnly(0x5a);
        assertThat(out[7 + n]).isEqualTo((byte) 0x5a);
        assertThat(key.open(out, 7, n, text.length, "test")).isEqualTo(text);
        int m = key.sealInto(noise, 0, noise.length, true, out, 0);
        assertThat(m).isEqualTo(noise.length + MasterKey.OVERHEAD);
        assertThat(key.open(out, 0, m, noise.length, "test")).isEqualTo(noise);
        assertThatThrownBy(() -> key.sealInto(noise, 0, noise.length, true, new byte[noise.length + MasterKey.OVERHEAD - 1], 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nonceSequencesCountUpAndNeverRepeatAcrossThreads() throws Exception {
        // one thread: consecutive 96-bit values
        MasterKey.NonceSequence seq = new MasterKey.NonceSequence();
        byte[] a = new byte[MasterKey.NONCE];
        byte[] b = new byte[MasterKey.NONCE];
        seq.next(a, 0);
        seq.next(b, 0);
        assertThat(new java.math.BigInteger(1, b).subtract(new java.math.BigInteger(1, a)))
                .isIn(java.math.BigInteger.ONE, java.math.BigInteger.ONE.shiftLeft(96).subtract(java.math.BigInteger.ONE).negate());
        // several threads sealing: every object's nonce is distinct
        java.util.Set<java.nio.ByteBuffer> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicInteger duplicates = new java.util.concurrent.atomic.AtomicInteger();
        byte[] payload = repetitive(100);
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 20_000; i++) {
                    byte[] sealed = key.seal(payload);
                    if (!seen.add(java.nio.ByteBuffer.wrap(Arrays.copyOf(sealed, MasterKey.NONCE)))) {
                        duplicates.incrementAndGet();
                    }
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(duplicates.get()).isZero();
        assertThat(seen).hasSize(80_000);
    }
}
