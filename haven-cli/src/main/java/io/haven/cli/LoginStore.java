package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where {@code haven login} keeps the server's address, its CA certificate and the session (or API)
 * token: {@code $HAVEN_CONFIG_DIR}, else {@code $XDG_CONFIG_HOME/haven}, else
 * {@code ~/.config/haven}; {@code login.json} is mode 0600. {@code HAVEN_SERVER},
 * {@code HAVEN_TOKEN} and {@code HAVEN_SERVER_CA} (a file) override it, for scripts.
 */
record LoginStore(Path dir) {
    record Login(URI server, String token, String caPem, String username) {}

    static LoginStore of(Env env) {
        String d = env.get("HAVEN_CONFIG_DIR");
        if (d == null) {
            String xdg = env.get("XDG_CONFIG_HOME");
            d = xdg != null ? xdg + "/haven" : env.get("HOME", "/root") + "/.config/haven";
        }
        return new LoginStore(env.resolve(d));
    }

    /** The login to use, from the environment or the saved file; UNAUTHENTICATED with a hint when there is none. */
    Login load(Env env) {
        String server = env.get("HAVEN_SERVER");
        String token = env.get("HAVEN_TOKEN");
        String caFile = env.get("HAVEN_SERVER_CA");
        Login saved = null;
        Path f = dir.resolve("login.json");
        if (Files.exists(f)) {
            try {
                JsonNode n = ApiClient.JSON.readTree(Files.readAllBytes(f));
                saved = new Login(URI.create(n.get("server").asText()), n.path("token").asText(null),
                        Files.readString(dir.resolve("server-ca.crt"), StandardCharsets.US_ASCII), n.path("username").asText(null));
            } catch (IOException | RuntimeException e) {
                throw new HavenException(ErrorCode.USAGE, "the saved login in " + f + " is unreadable (" + e.getMessage() + "); run haven login");
            }
        }
        if (server == null && saved == null) {
            throw new HavenException(ErrorCode.UNAUTHENTICATED, "not logged in: run 'haven login --server https://HOST:PORT --ca CA.crt' "
                    + "(or set HAVEN_SERVER, HAVEN_TOKEN and HAVEN_SERVER_CA)");
        }
        String ca;
        try {
            ca = caFile != null ? Files.readString(env.resolve(caFile), StandardCharsets.US_ASCII) : saved == null ? null : saved.caPem();
        } catch (IOException e) {
            throw new HavenException(ErrorCode.USAGE, "cannot read HAVEN_SERVER_CA " + caFile + ": " + e.getMessage());
        }
        if (ca == null) {
            throw new HavenException(ErrorCode.USAGE, "HAVEN_SERVER is set but the server's CA is unknown: set HAVEN_SERVER_CA to its ca.crt");
        }
        return new Login(server != null ? URI.create(server) : saved.server(), token != null ? token : saved == null ? null : saved.token(),
                ca, saved == null ? null : saved.username());
    }

    void save(Login l) {
        try {
            Files.createDirectories(dir);
            write(dir.resolve("server-ca.crt"), l.caPem());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("server", l.server().toString());
            m.put("username", l.username());
            m.put("token", l.token());
            write(dir.resolve("login.json"), ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot save the login in " + dir + ": " + e.getMessage(), e);
        }
    }

    boolean forget() {
        try {
            return Files.deleteIfExists(dir.resolve("login.json"));
        } catch (IOException e) {
            throw new HavenException(ErrorCode.IO, "cannot remove " + dir.resolve("login.json") + ": " + e.getMessage(), e);
        }
    }

    private static void write(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
