package io.haven.repository.backend;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a repository lives in an S3-compatible object store, parsed from
 * {@code s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]}. Objects are stored under
 * {@code PREFIX/NAME} (or {@code NAME} without a prefix).
 *
 * @param endpoint scheme, host and port of the service, no path ({@code https://s3.eu-west-1.amazonaws.com})
 * @param bucket the bucket name
 * @param prefix the key prefix without leading or trailing slash, or "" for the bucket's root
 */
public record S3Location(URI endpoint, String bucket, String prefix) {
    /** What {@code --repo} accepts, for messages. */
    public static final String SYNTAX = "s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]";
    private static final Pattern BUCKET = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    public S3Location {
        String scheme = endpoint.getScheme();
        if (!"http".equals(scheme) && !"https".equals(scheme) || endpoint.getHost() == null
                || !(endpoint.getRawPath() == null || endpoint.getRawPath().isEmpty())
                || endpoint.getRawQuery() != null || endpoint.getRawFragment() != null || endpoint.getRawUserInfo() != null) {
            throw usage("the S3 endpoint must be http[s]://HOST[:PORT] without path, got " + endpoint);
        }
        if (!BUCKET.matcher(bucket).matches()) {
            throw usage("'" + bucket + "' is not a valid S3 bucket name (3 to 63 letters, digits, '.', '-' or '_')");
        }
        if (!prefix.isEmpty()) {
            for (String segment : prefix.split("/", -1)) {
                if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                    throw usage("the S3 prefix '" + prefix + "' has an empty, '.' or '..' part");
                }
            }
        }
    }

    /** Whether {@code location} is meant as an S3 location (starts with {@code s3:}). */
    public static boolean isS3(String location) {
        return location.regionMatches(true, 0, "s3:", 0, 3);
    }

    /**
     * Parses {@code s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]}; a trailing slash is ignored.
     *
     * @throws HavenException USAGE naming what is wrong and the expected syntax
     */
    public static S3Location parse(String location) {
        if (!isS3(location)) {
            throw usage("'" + location + "' is not an S3 location: expected " + SYNTAX);
        }
        String rest = location.substring(3);
        if (rest.startsWith("//")) {
            throw usage("'" + location + "' names no endpoint: write the service's URL before the bucket, as in "
                    + "s3:https://s3.amazonaws.com/BUCKET (expected " + SYNTAX + ")");
        }
        if (!rest.startsWith("http://") && !rest.startsWith("https://")) {
            throw usage("'" + location + "' must give http:// or https:// after 's3:' (expected " + SYNTAX + ")");
        }
        URI uri;
        try {
            uri = new URI(rest);
        } catch (URISyntaxException e) {
            throw usage("'" + location + "' is not a valid URL (" + e.getReason() + "); expected " + SYNTAX);
        }
        if (uri.getHost() == null) {
            throw usage("'" + location + "' has no valid host name; expected " + SYNTAX);
        }
        if (uri.getRawUserInfo() != null) {
            throw usage("'" + location + "' contains user information: give credentials through AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY or a profile, not in the location");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw usage("'" + location + "' must not have a query or fragment; expected " + SYNTAX);
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        while (path.startsWith("/")) {
            path = path.substring(1);
        }
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.isEmpty()) {
            throw usage("'" + location + "' names no bucket; expected " + SYNTAX);
        }
        int slash = path.indexOf('/');
        String bucket = slash < 0 ? path : path.substring(0, slash);
        String prefix = slash < 0 ? "" : path.substring(slash + 1);
        URI endpoint = URI.create(uri.getScheme().toLowerCase(Locale.ROOT) + "://" + uri.getRawAuthority());
        return new S3Location(endpoint, bucket, prefix);
    }

    /** The key of object {@code name}: {@code PREFIX/NAME}, or {@code NAME} at the bucket's root. */
    public String key(String name) {
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    /**
     * Whether path-style addressing ({@code http://HOST/BUCKET/KEY}) suits this endpoint when not
     * chosen explicitly: yes for an IP address, {@code localhost} or an explicit port (typical of
     * self-hosted servers, whose DNS has no per-bucket names); otherwise virtual-host style
     * ({@code https://BUCKET.HOST/KEY}), which AWS prefers.
     */
    public boolean defaultPathStyle() {
        String host = endpoint.getHost();
        return endpoint.getPort() != -1 || host.startsWith("[") || IPV4.matcher(host).matches()
                || host.equalsIgnoreCase("localhost");
    }

    /** The location as written: {@code s3:ENDPOINT/BUCKET[/PREFIX]}. */
    @Override
    public String toString() {
        return "s3:" + endpoint + "/" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
    }

    private static HavenException usage(String message) {
        return new HavenException(ErrorCode.USAGE, message);
    }
}
