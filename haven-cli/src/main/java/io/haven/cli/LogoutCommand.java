package io.haven.cli;

import picocli.CommandLine.Command;

/** {@code haven logout}: forgets the saved login (the session token expires on its own). */
@Command(name = "logout", mixinStandardHelpOptions = true, description = "Forget the saved server login.")
final class LogoutCommand extends ApiCommand {
    @Override
    public Integer call() {
        LoginStore store = LoginStore.of(env());
        println(store.forget() ? "logged out (removed " + store.dir().resolve("login.json") + ")" : "not logged in");
        return Main.EXIT_OK;
    }
}
