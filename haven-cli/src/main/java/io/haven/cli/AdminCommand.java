package io.haven.cli;

import io.haven.server.LocalAdmin;
import io.haven.server.auth.PasswordHasher;
import io.haven.server.auth.Role;
import io.haven.server.auth.User;
import io.haven.server.db.DatabaseConfig;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code haven admin …}: work on a server's database directly, without the server running. */
@Command(name = "admin", mixinStandardHelpOptions = true, description = "Administer a server's database directly (the embedded one only while the server is stopped).",
        subcommands = {AdminCommand.Create.class})
final class AdminCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "give a subcommand: create");
    }

    /**
     * {@code haven admin create}: a user (admin by default). The password comes from
     * {@code HAVEN_ADMIN_PASSWORD}, a prompt on a terminal, or is generated and printed once.
     */
    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a user (an admin by default) in the server's database.")
    static final class Create extends RepoCommand {
        @Mixin
        ServerOptions where;

        @Option(names = "--username", paramLabel = "NAME", defaultValue = "admin", description = "Default: ${DEFAULT-VALUE}.")
        String username;

        @Option(names = "--role", paramLabel = "ROLE", defaultValue = "admin", description = "admin, operator or viewer; default: ${DEFAULT-VALUE}.")
        String role;

        @Override
        public Integer call() {
            Role r = Role.parse(role);
            Path data = where.dataDir(env());
            DatabaseConfig db = where.database(env(), data);
            String given = env().get("HAVEN_ADMIN_PASSWORD");
            String generated = null;
            char[] pw;
            if (given != null) {
                pw = given.toCharArray();
            } else if (env().terminal() && System.console() != null) {
                pw = prompt("password for " + username, true);
            } else {
                byte[] raw = new byte[18];
                new SecureRandom().nextBytes(raw);
                generated = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
                pw = generated.toCharArray();
            }
            if (db.isEmbedded()) {
                io.haven.server.HavenServer.createDataDir(data);
            }
            User u = LocalAdmin.createUser(db, username, pw, r, PasswordHasher.Params.DEFAULT, InstantSource.system(),
                    new SecureRandom(), "cli:" + SystemFacts.username());
            if (json()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", u.id());
                m.put("username", u.username());
                m.put("role", u.role().label());
                m.put("password", generated);
                println(Output.toJson(m));
            } else {
                println("created user '" + u.username() + "' (role " + u.role().label() + ") in " + db.display());
                if (generated != null) {
                    println("password: " + generated + "   (shown only now)");
                }
            }
            return Main.EXIT_OK;
        }
    }
}
