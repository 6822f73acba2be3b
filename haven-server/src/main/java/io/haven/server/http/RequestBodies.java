package io.haven.server.http;

import java.io.IOException;
import java.io.InputStream;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/** What a handler does with a request body it refuses without reading. */
public final class RequestBodies {
    private RequestBodies() {
    }

    /**
     * Reads and throws away what is left of {@code request}'s body, at most {@code limit} bytes,
     * so that a client still sending it reads the refusal and can reuse the connection. A client
     * that sent {@code Expect: 100-continue} has sent no body and is not asked for it.
     *
     * @return true when the body is gone (or there was none): the connection can serve the next
     *     request; false when it is larger than {@code limit}, held back, or broke off
     */
    public static boolean discard(Request request, long limit) {
        long declared = request.getLength();
        if (declared == 0 || declared < 0 && !request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
            return true;
        }
        String expect = request.getHeaders().get(HttpHeader.EXPECT);
        if (declared > limit || expect != null && expect.equalsIgnoreCase("100-continue")) {
            return false;
        }
        byte[] buffer = new byte[64 << 10];
        long read = 0;
        try (InputStream in = Content.Source.asInputStream(request)) {
            int n;
            while (read <= limit && (n = in.read(buffer)) >= 0) {
                read += n;
            }
        } catch (IOException | RuntimeException e) {
            return false; // the client is gone or sent a broken body
        }
        return read <= limit;
    }
}
