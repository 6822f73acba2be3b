package io.haven.server.notify;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLException;

/**
 * POSTs an event as JSON to a webhook with the JDK's HTTP client: HTTP/1.1, redirects not
 * followed (a 3xx is a failure), connection and answer each within the timeout, HTTPS checked
 * against the JVM's trusted CAs. A 2xx is success. Thread-safe; close once.
 */
final class WebhookSender implements AutoCloseable {
    private final HttpClient http;
    private final Duration timeout;
    private final String userAgent;

    WebhookSender(Duration timeout, String version) {
        this.timeout = timeout;
        this.userAgent = "haven/" + version;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * Sends one attempt.
     *
     * @throws DeliveryException for anything but a 2xx answer; retryable for no connection,
     *     time-outs, 408, 429 and 5xx
     * @throws InterruptedException when the thread is interrupted (the server is stopping)
     */
    void send(WebhookConfig config, Event event, String server) throws InterruptedException {
        byte[] body = Payload.json(event, server);
        HttpRequest.Builder req = HttpRequest.newBuilder(config.uri())
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", userAgent)
                .header("X-Haven-Event", event.kind().label())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (config.secret() != null) {
            req.header("X-Haven-Signature", Payload.signature(config.secret(), body));
        }
        String where = config.maskedUrl();
        HttpResponse<InputStream> res;
        try {
            res = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpConnectTimeoutException e) {
            throw new DeliveryException("no connection to " + where + " within " + duration(timeout), true, e);
        } catch (HttpTimeoutException e) {
            throw new DeliveryException("no answer from " + where + " within " + duration(timeout), true, e);
        } catch (ConnectException e) {
            throw new DeliveryException("cannot connect to " + where + ": " + connectFailure(e, config), true, e);
        } catch (SSLException e) {
            throw new DeliveryException("TLS with " + where + " failed: " + DeliveryException.describe(e), false, e);
        } catch (IOException e) {
            throw new DeliveryException("cannot POST to " + where + ": " + DeliveryException.describe(e), true, e);
        }
        int status = res.statusCode();
        String answer = excerpt(res.body());
        if (status / 100 == 2) {
            return;
        }
        boolean retry = status >= 500 || status == 408 || status == 429;
        throw new DeliveryException(where + " answered HTTP " + status + (answer.isEmpty() ? "" : ": " + answer), retry, null);
    }

    /** Why a connection failed: the JDK's client often leaves the outer message empty. */
    private static String connectFailure(ConnectException e, WebhookConfig config) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException) {
                return "cannot resolve the host name " + config.uri().getHost();
            }
        }
        String d = DeliveryException.describe(e);
        return d.equals(e.getClass().getSimpleName()) ? "connection refused" : d;
    }

    private static String duration(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** The first 200 characters of an answer, on one line; the rest is not read. */
    private static String excerpt(InputStream in) {
        try (in) {
            String s = new String(in.readNBytes(200), StandardCharsets.UTF_8);
            return s.replaceAll("\\s+", " ").strip();
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        http.shutdownNow();
    }
}
