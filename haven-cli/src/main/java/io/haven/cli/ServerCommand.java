package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.HavenServer;
import io.haven.server.ServerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code haven server}: runs the control plane on one HTTPS port until stopped (SIGTERM or
 * Ctrl-C close the listener, then the database). Prints where it listens, the CA fingerprint and,
 * on a first start without {@code HAVEN_ADMIN_PASSWORD}, the generated admin password once.
 */
@Command(name = "server", mixinStandardHelpOptions = true, description = "Run the Haven server: HTTPS REST API, users, tokens, audit (docs/server.md).")
final class ServerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions where;

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Address and port to listen on (HTTPS only); 0.0.0.0:8443 for every interface, port 0 for a free one; default: 127.0.0.1:8443.")
    String listen;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Settings in YAML or JSON (listen, data, db, certHosts, agents.heartbeatSeconds, jobs.lostAfterMinutes, "
                    + "scheduler.tickMillis, repositories.kdfMemoryKib); options given here win over the file.")
    String configFile;

    @Option(names = "--cert-host", paramLabel = "NAME",
            description = "Another DNS name or IP address the server certificate must cover (repeatable).")
    List<String> certHosts = new ArrayList<>();

    /** A listen address split into host and port. */
    record HostPort(String host, int port) {
        static HostPort parse(String s) {
            int colon = s.startsWith("[") ? s.indexOf("]:") + 1 : s.lastIndexOf(':');
            if (colon <= 0 && !s.startsWith(":")) {
                throw new HavenException(ErrorCode.USAGE, "--listen takes HOST:PORT (for example 0.0.0.0:8443 or [::1]:8443), not '" + s + "'");
            }
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            try {
                int port = Integer.parseInt(s.substring(colon + 1));
                if (port < 0 || port > 65535) {
                    throw new NumberFormatException();
                }
                return new HostPort(host.isEmpty() ? "0.0.0.0" : host, port);
            } catch (NumberFormatException e) {
                throw new HavenException(ErrorCode.USAGE, "the port in --listen '" + s + "' is not a number from 0 to 65535");
            }
        }
    }

    @Override
    public Integer call() throws Exception {
        Main main = (Main) spec.root().userObject();
        Env env = main.env;
        ServerFile file = configFile == null ? ServerFile.EMPTY : ServerFile.read(env.resolve(configFile));
        HostPort hp = HostPort.parse(listen != null ? listen : file.listen() != null ? file.listen() : "127.0.0.1:8443");
        if (where.data == null && file.data() != null) {
            where.data = file.data();
        }
        if (where.db == null && file.db() != null) {
            where.db = file.db();
        }
        Path data = where.dataDir(env);
        List<String> hosts = new ArrayList<>(ServerConfig.defaultCertificateHosts(hp.host()));
        List<String> extra = new ArrayList<>(certHosts);
        if (file.certHosts() != null) {
            extra.addAll(file.certHosts());
        }
        for (String h : extra) {
            if (!hosts.contains(h)) {
                hosts.add(h);
            }
        }
        ServerConfig config = ServerConfig.defaults(data, hp.host(), hp.port())
                .withDatabase(where.database(env, data))
                .withCertificateHosts(hosts)
                .withAdminPassword(env.get("HAVEN_ADMIN_PASSWORD"))
                .withControl(file.control());
        HavenServer server = HavenServer.start(config);
        Thread hook = new Thread(server::close, "haven-server-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);

        Map<String, Object> info = new LinkedHashMap<>();
        info.put("url", server.uri().toString());
        info.put("port", server.port());
        info.put("data", data.toString());
        info.put("database", config.database().display());
        info.put("caCertificate", server.tls().caCertificateFile().toString());
        info.put("caFingerprintSha256", server.tls().caFingerprint());
        info.put("createdCa", server.tls().createdCa());
        info.put("createdAdmin", server.createdFirstAdmin() ? HavenServer.FIRST_ADMIN : null);
        info.put("adminPassword", server.generatedAdminPassword().orElse(null));
        if (main.json) {
            env.out().println(Output.toJson(info));
        } else {
            env.out().println("haven server listening on " + server.uri() + " (HTTPS only)");
            env.out().println("  data directory:   " + data);
            env.out().println("  database:         " + config.database().display());
            env.out().println("  CA certificate:   " + server.tls().caCertificateFile()
                    + (server.tls().createdCa() ? " (created now)" : ""));
            env.out().println("  CA fingerprint:   SHA-256 " + server.tls().caFingerprint());
            if (server.generatedAdminPassword().isPresent()) {
                env.out().println("  first admin:      user '" + HavenServer.FIRST_ADMIN + "', password "
                        + server.generatedAdminPassword().get() + "   (shown only now)");
            } else if (server.createdFirstAdmin()) {
                env.out().println("  first admin:      user '" + HavenServer.FIRST_ADMIN + "', password from HAVEN_ADMIN_PASSWORD");
            }
            env.out().println("  health: " + server.uri() + "/health   API: " + server.uri() + "/api/v1   (stop with Ctrl-C)");
        }
        env.out().flush();
        server.join();
        return Main.EXIT_OK;
    }
}
