package io.haven.repository.crypto;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.repository.BlobId;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The repository's master key: AES-256-GCM sealing of objects (with optional zstd compression
 * inside the seal) and the keyed blob id (HMAC-SHA-256). See docs/repository-format.md §3–4.
 *
 * <p>Thread safe: ciphers, MACs and zstd contexts are per thread.
 */
public final class MasterKey {
    public static final int LENGTH = 64;
    public static final int NONCE = 12;
    public static final int TAG = 16;
    /** Bytes a seal adds to a payload: nonce, flag, tag. */
    public static final int OVERHEAD = NONCE + 1 + TAG;
    private static final int DEFAULT_LEVEL = 3;

    private final byte[] material;
    private final SecretKeySpec encKey;
    private final SecretKeySpec idKey;
    /** Each thread counts its own nonces up from a random start (docs/repository-format.md §3). */
    private final ThreadLocal<NonceSequence> nonces = ThreadLocal.withInitial(NonceSequence::new);
    private static final byte[][] FLAGS = {{0}, {1}};
    /** Per-thread compression output, reused: chunks are up to a few MiB and many. */
    private final ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[0]);
    private final ThreadLocal<Cipher> ciphers = ThreadLocal.withInitial(MasterKey::newCipher);
    private final ThreadLocal<Mac> macs;
    private volatile int level = DEFAULT_LEVEL;
    private final ThreadLocal<ZstdCompressCtx> compressors = ThreadLocal.withInitial(() -> {
        ZstdCompressCtx ctx = new ZstdCompressCtx();
        ctx.setLevel(level);
        ctx.setContentSize(true);
        return ctx;
    });
    private final ThreadLocal<ZstdDecompressCtx> decompressors = ThreadLocal.withInitial(ZstdDecompressCtx::new);

    public MasterKey(byte[] material) {
        if (material.length != LENGTH) {
            throw new HavenException(ErrorCode.CORRUPT, "a master key has 64 bytes, not " + material.length);
        }
        this.material = material.clone();
        this.encKey = new SecretKeySpec(material, 0, 32, "AES");
        this.idKey = new SecretKeySpec(material, 32, 32, "HmacSHA256");
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(idKey);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HMAC-SHA-256 is part of every JDK", e);
            }
        });
    }

    public static MasterKey generate(SecureRandom random) {
        byte[] m = new byte[LENGTH];
        random.nextBytes(m);
        return new MasterKey(m);
    }

    /**
     * Sets the zstd level for objects sealed from now on by threads that have not sealed yet
     * (call before writing). Readers do not need it.
     */
    public void compressionLevel(int level) {
        if (level < -7 || level > 19) {
            throw new HavenException(ErrorCode.USAGE, "zstd level must be between -7 and 19, not " + level);
        }
        this.level = level;
    }

    /** The 64 bytes, for wrapping into a key file. */
    public byte[] material() {
        return material.clone();
    }

    /** HMAC-SHA-256 with the id key over {@code data[offset, offset+length)}. */
    public BlobId blobId(byte[] data, int offset, int length) {
        Mac mac = macs.get();
        mac.update(data, offset, length);
        return BlobId.of(mac.doFinal());
    }

    /** HMAC-SHA-256 with the id key, raw, for deriving values such as the gear table. */
    public byte[] mac(byte[] data) {
        Mac mac = macs.get();
        return mac.doFinal(data);
    }

    /** Seals with compression when it helps. */
    public byte[] seal(byte[] payload) {
        return seal(payload, 0, payload.length, true);
    }

    /**
     * Seals {@code payload[offset, offset+length)}: zstd when {@code compress} and the result is
     * smaller, then AES-256-GCM with a fresh nonce.
     */
    public byte[] seal(byte[] payload, int offset, int length, boolean compress) {
        byte[] out = new byte[length + OVERHEAD];
        int n = sealInto(payload, offset, length, compress, out, 0);
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /**
     * Seals like {@link #seal(byte[], int, int, boolean)} into {@code out} from
     * {@code outOffset}, which must have room for {@code length + OVERHEAD} bytes (a sealed
     * object is never larger). A backup seals every chunk this way into a reused buffer rather
     * than allocating hundreds of MiB that the collector then has to clear.
     *
     * @return the sealed length
     */
    public int sealInto(byte[] payload, int offset, int length, boolean compress, byte[] out, int outOffset) {
        if (out.length - outOffset < length + OVERHEAD) {
            throw new IllegalArgumentException("room for " + (length + OVERHEAD) + " bytes needed, "
                    + (out.length - outOffset) + " given");
        }
        byte[] body = payload;
        int bodyOff = offset;
        int bodyLen = length;
        byte flag = 0;
        if (compress && length > 64) {
            ZstdCompressCtx ctx = compressors.get();
            int bound = (int) Zstd.compressBound(length);
            byte[] tmp = scratch.get();
            if (tmp.length < bound) {
                tmp = new byte[Math.max(bound, 64 << 10)];
                scratch.set(tmp);
            }
            int n = ctx.compressByteArray(tmp, 0, tmp.length, payload, offset, length);
            if (n < length) {
                body = tmp;
                bodyOff = 0;
                bodyLen = n;
                flag = 1;
            }
        }
        nonces.get().next(out, outOffset);
        try {
            Cipher c = ciphers.get();
            c.init(Cipher.ENCRYPT_MODE, encKey, new GCMParameterSpec(TAG * 8, out, outOffset, NONCE));
            int w = c.update(FLAGS[flag], 0, 1, out, outOffset + NONCE);
            w += c.doFinal(body, bodyOff, bodyLen, out, outOffset + NONCE + w);
            return NONCE + w;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to encrypt", e);
        }
    }

    /** Opens a sealed object; the payload size comes from the zstd frame header. */
    public byte[] open(byte[] sealed, String what) {
        return open(sealed, 0, sealed.length, -1, what);
    }

    /**
     * Authenticates, decrypts and decompresses a sealed object.
     *
     * @param rawLength the expected payload length, or -1 when unknown
     * @param what names the object in error messages
     * @throws HavenException {@link ErrorCode#CORRUPT} when authentication or decoding fails
     */
    public byte[] open(byte[] sealed, int offset, int length, int rawLength, String what) {
        if (length < OVERHEAD) {
            throw new HavenException(ErrorCode.CORRUPT, what + " is truncated (" + length + " bytes)");
        }
        byte[] plain;
        try {
            Cipher c = ciphers.get();
            c.init(Cipher.DECRYPT_MODE, encKey, new GCMParameterSpec(TAG * 8, sealed, offset, NONCE));
            plain = c.doFinal(sealed, offset + NONCE, length - NONCE);
        } catch (AEADBadTagException e) {
            throw new HavenException(ErrorCode.CORRUPT, what + " failed authentication: it was modified or damaged");
        } catch (GeneralSecurityException e) {
            throw new HavenException(ErrorCode.CORRUPT, what + " could not be decrypted: " + e.getMessage(), e);
        }
        return switch (plain[0]) {
            case 0 -> Arrays.copyOfRange(plain, 1, plain.length);
            case 1 -> decompress(plain, rawLength, what);
            default -> throw new HavenException(ErrorCode.CORRUPT, what + " has an unknown compression flag " + plain[0]);
        };
    }

    private byte[] decompress(byte[] plain, int rawLength, String what) {
        long size = rawLength >= 0 ? rawLength : Zstd.getFrameContentSize(plain, 1, plain.length - 1);
        if (size < 0 || size > Integer.MAX_VALUE - 16) {
            throw new HavenException(ErrorCode.CORRUPT, what + " has an invalid compressed frame");
        }
        byte[] out = new byte[(int) size];
        try {
            int n = decompressors.get().decompressByteArray(out, 0, out.length, plain, 1, plain.length - 1);
            if (n != size) {
                throw new HavenException(ErrorCode.CORRUPT, what + " decompressed to " + n + " bytes, expected " + size);
            }
        } catch (RuntimeException e) {
            if (e instanceof HavenException) {
                throw e;
            }
            throw new HavenException(ErrorCode.CORRUPT, what + " could not be decompressed: " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * AES-GCM nonces of one thread: a 96-bit big-endian counter that starts at a value drawn
     * from the system's strong random source and goes up by one per object. GCM needs a nonce
     * never to repeat under a key; counting guarantees it within a sequence, and two sequences
     * (threads, processes, hosts) collide only if their ranges overlap in a 2^96 space: at
     * most as likely as for fresh random nonces, which a backup of 100,000 chunks would
     * otherwise draw one by one from a DRBG (0.05 s of CPU, and compiling the DRBG).
     */
    static final class NonceSequence {
        private static final SecureRandom SEEDS = newDrbg();
        private int high;
        private long low;

        NonceSequence() {
            byte[] seed = new byte[NONCE];
            synchronized (SEEDS) {
                SEEDS.nextBytes(seed);
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(seed);
            high = b.getInt();
            low = b.getLong();
        }

        /** Writes the next nonce to {@code out[offset, offset+12)}. */
        void next(byte[] out, int offset) {
            if (++low == 0) {
                high++;
            }
            int h = high;
            long l = low;
            for (int i = 3; i >= 0; i--) {
                out[offset + i] = (byte) h;
                h >>>= 8;
            }
            for (int i = 11; i >= 4; i--) {
                out[offset + i] = (byte) l;
                l >>>= 8;
            }
        }

        private static SecureRandom newDrbg() {
            try {
                return SecureRandom.getInstance("DRBG");
            } catch (GeneralSecurityException e) {
                return new SecureRandom();
            }
        }
    }

    private static Cipher newCipher() {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is part of every JDK", e);
        }
    }
}
