package io.haven.runbook;

/** TSIG (RFC 8945) MAC algorithms, by their DNS names. HMAC-MD5 is left out on purpose. */
public enum TsigAlgorithm {
    HMAC_SHA1("hmac-sha1"),
    HMAC_SHA224("hmac-sha224"),
    HMAC_SHA256("hmac-sha256"),
    HMAC_SHA384("hmac-sha384"),
    HMAC_SHA512("hmac-sha512");

    private final String text;

    TsigAlgorithm(String text) {
        this.text = text;
    }

    /** The plan file's (and BIND's) name for it. */
    public String text() {
        return text;
    }
}
