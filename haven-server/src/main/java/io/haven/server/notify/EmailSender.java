package io.haven.server.notify;

import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.Date;
import java.util.Properties;
import javax.net.ssl.SSLException;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;

/**
 * Mails an event as plain text through SMTP with Jakarta Mail (Eclipse Angus): one connection
 * per attempt, STARTTLS required when the channel asks for it (certificate and host name
 * checked), AUTH when the channel has a user name, connect, read and write time-outs. Each call
 * makes its own {@link Session}, so nothing is shared between threads.
 */
final class EmailSender {
    private final Duration timeout;

    EmailSender(Duration timeout) {
        this.timeout = timeout;
    }

    /**
     * Sends one attempt.
     *
     * @throws DeliveryException when the mail is not accepted; not retryable for a refused login,
     *     a missing STARTTLS, a TLS failure or a 5xx reply (a refused sender or recipient)
     */
    void send(EmailConfig c, Event event, String server) {
        String ms = String.valueOf(timeout.toMillis());
        Properties p = new Properties();
        p.put("mail.smtp.host", c.host());
        p.put("mail.smtp.port", String.valueOf(c.port()));
        p.put("mail.smtp.connectiontimeout", ms);
        p.put("mail.smtp.timeout", ms);
        p.put("mail.smtp.writetimeout", ms);
        p.put("mail.smtp.auth", String.valueOf(c.username() != null));
        if (c.starttls()) {
            p.put("mail.smtp.starttls.enable", "true");
            p.put("mail.smtp.starttls.required", "true");
            p.put("mail.smtp.ssl.checkserveridentity", "true");
        }
        Session session = Session.getInstance(p);
        String where = "SMTP server " + c.host() + ":" + c.port();
        try {
            MimeMessage msg = new MimeMessage(session);
            msg.setFrom(new InternetAddress(c.from()));
            for (String to : c.to()) {
                msg.addRecipient(Message.RecipientType.TO, new InternetAddress(to));
            }
            msg.setSubject(Payload.mailSubject(event), "UTF-8");
            msg.setSentDate(Date.from(event.time()));
            msg.setHeader("X-Haven-Event", event.kind().label());
            msg.setText(Payload.mailText(event, server), "UTF-8");
            msg.saveChanges();
            try (Transport t = session.getTransport("smtp")) {
                t.connect(c.host(), c.port(), c.username(), c.password());
                t.sendMessage(msg, msg.getAllRecipients());
            }
        } catch (AuthenticationFailedException e) {
            throw new DeliveryException(where + " refused the login of user '" + c.username() + "': "
                    + DeliveryException.describe(e), false, e);
        } catch (MessagingException e) {
            int code = replyCode(e);
            String text = DeliveryException.describe(e);
            // a refused sender or recipient (5xx), a missing STARTTLS or a certificate will not pass by themselves
            boolean permanent = code >= 500 || text.contains("STARTTLS") || causedBy(e, SSLException.class);
            throw new DeliveryException("cannot send mail through " + where + ": " + text, !permanent, e);
        }
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** The highest SMTP reply code anywhere in the failure (refused recipients are chained), or 0. */
    private static int replyCode(Exception e) {
        int code = 0;
        for (Exception x = e; x != null; x = x instanceof MessagingException m ? m.getNextException() : null) {
            int c = switch (x) {
                case SMTPSendFailedException f -> f.getReturnCode();
                case SMTPAddressFailedException f -> f.getReturnCode();
                case SMTPSenderFailedException f -> f.getReturnCode();
                default -> 0;
            };
            code = Math.max(code, c);
            if (x instanceof MessagingException m && m.getNextException() == x) {
                break;
            }
        }
        return code;
    }
}
