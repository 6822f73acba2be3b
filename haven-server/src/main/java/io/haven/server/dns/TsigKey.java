package io.haven.server.dns;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * A TSIG key (RFC 8945) shared with the DNS server, as BIND's {@code tsig-keygen} prints it:
 * {@code key "NAME" { algorithm ALGORITHM; secret "SECRET"; };}.
 *
 * @param name the key's name, exactly as the server's {@code key} statement names it; kept as
 *     an absolute lower-case name ({@code haven-dr.})
 * @param algorithm one of {@link #ALGORITHMS}; null means {@code hmac-sha256}
 * @param secret the shared secret in base64; never shown by {@link #toString()}
 */
public record TsigKey(String name, String algorithm, String secret) {
    /** The algorithms accepted; HMAC-MD5 is not (RFC 8945 says it must not be used). */
    public static final List<String> ALGORITHMS = List.of("hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1");

    public TsigKey {
        name = DnsNames.absolute(name, "the TSIG key's name");
        algorithm = algorithm == null || algorithm.isBlank() ? "hmac-sha256" : algorithm.strip().toLowerCase(Locale.ROOT);
        if (!ALGORITHMS.contains(algorithm)) {
            throw new HavenException(ErrorCode.USAGE, "the TSIG algorithm must be one of " + String.join(", ", ALGORITHMS)
                    + ", not '" + algorithm + "'");
        }
        if (secret == null || secret.isBlank()) {
            throw new HavenException(ErrorCode.USAGE, "the TSIG key '" + name + "' needs its secret (base64, as tsig-keygen prints it)");
        }
        secret = secret.strip();
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(secret);
        } catch (IllegalArgumentException e) {
            throw new HavenException(ErrorCode.USAGE, "the secret of TSIG key '" + name + "' is not base64 (as tsig-keygen prints it)");
        }
        if (bytes.length == 0) {
            throw new HavenException(ErrorCode.USAGE, "the secret of TSIG key '" + name + "' is empty");
        }
    }

    /** A key with the default algorithm, {@code hmac-sha256}. */
    public TsigKey(String name, String secret) {
        this(name, null, secret);
    }

    /** The decoded secret. */
    byte[] secretBytes() {
        return Base64.getDecoder().decode(secret);
    }

    @Override
    public String toString() {
        return "TsigKey[" + name + " " + algorithm + ", secret ***]";
    }
}
