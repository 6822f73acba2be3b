package io.haven.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code haven user …} and {@code haven token …}: users and API tokens, through the API. */
final class UserCommands {
    private UserCommands() {}

    @Command(name = "user", mixinStandardHelpOptions = true, description = "Users of the server (admin), and your own password.",
            subcommands = {UserList.class, UserCreate.class, UserDisable.class, UserEnable.class, UserPasswd.class})
    static final class User implements Runnable {
        @Override
        public void run() {
            throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven user --help'");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List users.")
    static final class UserList extends ApiCommand {
        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/users");
            table(r, r.get("users"), List.of("NAME", "ROLE", "DISABLED", "CREATED"),
                    List.of(field("username"), field("role"), field("disabled"), field("createdAt")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a user; the password comes from HAVEN_USER_PASSWORD or a prompt.")
    static final class UserCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--role", paramLabel = "ROLE", defaultValue = "viewer", description = "admin, operator or viewer (default: ${DEFAULT-VALUE}).")
        String role;

        @Override
        public Integer call() {
            String pw = env().get("HAVEN_USER_PASSWORD");
            JsonNode r = api().post("/api/v1/users", Map.of("username", name, "role", role, "password",
                    pw != null ? pw : new String(prompt("password for " + name, true, "set HAVEN_USER_PASSWORD"))));
            print(r, () -> println("user " + r.get("username").asText() + " (" + r.get("role").asText() + ") created"));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true, description = "Disable a user: no login, their tokens stop working.")
    static class UserDisable extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        String action() {
            return "disable";
        }

        @Override
        public Integer call() {
            JsonNode r = api().post("/api/v1/users/" + ApiClient.q(name) + "/" + action(), Map.of());
            print(r, () -> println("user " + r.get("username").asText() + (r.get("disabled").asBoolean() ? " disabled" : " enabled")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "enable", mixinStandardHelpOptions = true, description = "Enable a disabled user.")
    static final class UserEnable extends UserDisable {
        @Override
        String action() {
            return "enable";
        }
    }

    @Command(name = "passwd", mixinStandardHelpOptions = true, description = {"Change a password: your own (asks for the current one) "
        + "or, as an admin, anyone's.", "HAVEN_USER_PASSWORD and HAVEN_SERVER_PASSWORD (the current one) replace the prompts."})
    static final class UserPasswd extends ApiCommand {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "Default: the logged-in user.")
        String name;

        @Override
        public Integer call() {
            LoginStore.Login l = LoginStore.of(env()).load(env());
            String who = name != null ? name : l.username();
            if (who == null) {
                throw new HavenException(ErrorCode.USAGE, "say whose password: haven user passwd NAME");
            }
            Map<String, Object> b = new LinkedHashMap<>();
            if (who.equals(l.username())) {
                String cur = env().get("HAVEN_SERVER_PASSWORD");
                b.put("currentPassword", cur != null ? cur : new String(prompt("current password of " + who, false, "set HAVEN_SERVER_PASSWORD")));
            }
            String pw = env().get("HAVEN_USER_PASSWORD");
            b.put("password", pw != null ? pw : new String(prompt("new password of " + who, true, "set HAVEN_USER_PASSWORD")));
            JsonNode r = api().post("/api/v1/users/" + ApiClient.q(who) + "/password", b);
            print(r, () -> println("password of " + who + " changed"));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "token", mixinStandardHelpOptions = true, description = "API tokens for scripts (admin).",
            subcommands = {TokenList.class, TokenCreate.class, TokenRevoke.class})
    static final class Token implements Runnable {
        @Override
        public void run() {
            throw new HavenException(ErrorCode.USAGE, "give a subcommand; see 'haven token --help'");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List API tokens (never their secrets).")
    static final class TokenList extends ApiCommand {
        @Option(names = "--user", paramLabel = "NAME")
        String user;

        @Override
        public Integer call() {
            JsonNode r = api().get("/api/v1/tokens" + (user == null ? "" : "?username=" + ApiClient.q(user)));
            table(r, r.get("tokens"), List.of("ID", "NAME", "USER", "CREATED", "EXPIRES", "LAST USED", "REVOKED"), List.of(field("id"),
                    field("name"), field("username"), field("createdAt"), field("expiresAt"), field("lastUsedAt"), field("revokedAt")));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create an API token; it is printed once.")
    static final class TokenCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "What uses it, e.g. ci-nightly.")
        String name;
        @Option(names = "--user", paramLabel = "NAME", description = "The user it acts as (default: you).")
        String user;
        @Option(names = "--expires-days", paramLabel = "DAYS", description = "Lifetime (default: none).")
        Integer days;

        @Override
        public Integer call() {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("name", name);
            b.put("username", user);
            b.put("expiresInDays", days);
            JsonNode r = api().post("/api/v1/tokens", b);
            print(r, () -> {
                println(r.get("token").asText());
                println("token " + r.get("id").asText() + " for " + r.get("username").asText() + " (shown only now); use it with "
                        + "HAVEN_TOKEN or 'haven login --token'");
            });
            return Main.EXIT_OK;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a token; it stops working at once.")
    static final class TokenRevoke extends ApiCommand {
        @Parameters(paramLabel = "ID")
        long id;

        @Override
        public Integer call() {
            JsonNode r = api().post("/api/v1/tokens/" + id + "/revoke", Map.of());
            print(r, () -> println("token " + id + " revoked"));
            return Main.EXIT_OK;
        }
    }
}
