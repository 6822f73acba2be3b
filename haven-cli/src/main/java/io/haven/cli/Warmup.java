package io.haven.cli;

/**
 * One-time initialisations that a command opening a repository waits for on its main thread,
 * started on a second thread as the command starts so that they overlap the parsing of the
 * command line and the repository's configuration.
 *
 * <p>Measured in the start of {@code haven backup} (about 0.3 s before the first file is read):
 * {@code BigDecimal}'s static tables, which JSON parsing needs (0.015 s on Java 25);
 * BouncyCastle's service registry, which Argon2 touches first, starts {@code java.util.logging},
 * whose set-up looks for a logging service in every jar on the class path (0.03 s); zstd-jni
 * loads its native library; the JDK's cryptography providers initialise; and the time-zone
 * database that printing the result reads at the very end. A class being
 * initialised here is waited for, never initialised twice, by the main thread; a failure here
 * is ignored, as the command meets and reports it itself.
 */
final class Warmup {
    private Warmup() {}

    static void start() {
        Thread t = new Thread(Warmup::run, "haven-warmup");
        t.setDaemon(true);
        t.start();
    }

    private static void run() {
        try {
            ClassLoader loader = Warmup.class.getClassLoader();
            Class.forName("java.math.BigDecimal", true, loader);
            Class.forName("org.bouncycastle.crypto.CryptoServicesRegistrar", true, loader);
            javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
            javax.crypto.Mac.getInstance("HmacSHA256");
            com.github.luben.zstd.util.Native.load();
            // the time-zone rules, read when the result is printed (0.012 s at the very end)
            java.time.ZoneId.systemDefault().getRules();
        } catch (Throwable ignored) {
            // the command meets the same failure and reports it
        }
    }
}
