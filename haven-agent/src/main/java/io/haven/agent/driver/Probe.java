package io.haven.agent.driver;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/** How to tell that a workload is healthy: a TCP connect, an HTTP status, or a command's exit code. */
public sealed interface Probe {
    /** Healthy when a TCP connection to {@code host:port} opens. */
    record Tcp(String host, int port) implements Probe {
        public Tcp {
            if (host == null || host.isBlank() || port < 1 || port > 65535) {
                throw new HavenException(ErrorCode.USAGE, "a TCP probe needs a host and a port 1..65535, not " + host + ":" + port);
            }
        }
    }

    /** Healthy when {@code GET url} answers {@code status}. */
    record Http(URI url, int status) implements Probe {
        public Http {
            if (url == null || !(("http".equals(url.getScheme()) || "https".equals(url.getScheme())) && url.getHost() != null)) {
                throw new HavenException(ErrorCode.USAGE, "an HTTP probe needs an http:// or https:// URL, not " + url);
            }
            if (status < 100 || status > 599) {
                throw new HavenException(ErrorCode.USAGE, "an HTTP probe's expected status is 100..599, not " + status);
            }
        }
    }

    /** Healthy when the command exits 0. */
    record Command(List<String> argv) implements Probe {
        public Command {
            if (argv == null || argv.isEmpty()) {
                throw new HavenException(ErrorCode.USAGE, "a command probe needs a command");
            }
            argv = List.copyOf(argv);
        }
    }

    /** One probe's outcome. */
    record Result(boolean ok, String detail, Duration took) {}
}
