package io.haven.core;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A number of bytes, parsed from and printed as "1.5 GiB", "20MiB", "512k". */
public record DataSize(long bytes) implements Comparable<DataSize> {
    private static final Pattern SYNTAX =
            Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*([kKmMgGtT]?)(i?[bB])?\\s*");
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    public DataSize {
        if (bytes < 0) {
            throw new IllegalArgumentException("a size cannot be negative: " + bytes);
        }
    }

    public static DataSize ofBytes(long bytes) {
        return new DataSize(bytes);
    }

    public static DataSize ofMebibytes(long mib) {
        return new DataSize(Math.multiplyExact(mib, 1L << 20));
    }

    /**
     * Parses sizes such as {@code 512}, {@code 4k}, {@code 20MiB}, {@code 1.5G}; units are binary
     * (k = 1024).
     *
     * @throws HavenException with {@link ErrorCode#USAGE} when the text is not a size
     */
    public static DataSize parse(String text) {
        Matcher m = SYNTAX.matcher(text);
        if (!m.matches()) {
            throw new HavenException(ErrorCode.USAGE, "not a size: '" + text + "' (try 512, 4k, 20MiB, 1.5GiB)");
        }
        double number = Double.parseDouble(m.group(1));
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "" -> 0;
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> throw new IllegalStateException();
        };
        return new DataSize(Math.round(number * (1L << shift)));
    }

    /** "0 B", "1.4 KiB", "18.2 MiB". */
    public static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double v = bytes;
        int unit = 0;
        while (v >= 1024 && unit < UNITS.length - 1) {
            v /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : "%.1f %s", v, UNITS[unit]);
    }

    @Override
    public int compareTo(DataSize o) {
        return Long.compare(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return format(bytes);
    }
}
