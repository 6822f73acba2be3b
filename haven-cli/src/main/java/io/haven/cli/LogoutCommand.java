package io.haven.cli;

import picocli.CommandLine.Command;

/** {@code haven logout}: revokes the session on the server (when it can) and forgets the saved login. */
@Command(name = "logout", mixinStandardHelpOptions = true, description = "Forget the saved server login.")
final class LogoutCommand extends ApiCommand {
    @Override
    public Integer call() {
        LoginStore store = LoginStore.of(env());
        try {
            api().post("/api/v1/logout", java.util.Map.of());
        } catch (io.haven.core.HavenException e) {
            // an expired session or an unreachable server: forgetting the login is still right
        }
        println(store.forget() ? "logged out (removed " + store.dir().resolve("login.json") + ")" : "not logged in");
        return Main.EXIT_OK;
    }
}
