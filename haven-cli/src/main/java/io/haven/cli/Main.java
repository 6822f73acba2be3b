package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code haven} command. Reads the environment once here and hands a typed {@link Env} to
 * the subcommands; maps failures to exit codes (0 ok, 1 failure, 3 partial: a snapshot saved or a
 * restore done with entries missed, 4 data in the cold tier, 5 outcome unknown: the server stayed
 * unreachable) and one-line messages (stack traces only with {@code --debug}).
 */
@Command(name = "haven", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Haven: backup and disaster recovery.")
public final class Main implements Runnable {
    /**
     * The subcommands, in help order. Added to the command line by {@link #run}: only the one
     * named on the command line when there is one, because building picocli's model of all of
     * them (reflection over every option of every command) is a fifth of a second of a short
     * command's start-up.
     */
    static final java.util.List<Class<?>> COMMANDS = java.util.List.of(InitCommand.class, BackupCommand.class,
            SnapshotsCommand.class, LsCommand.class, RestoreCommand.class, DiffCommand.class, CheckCommand.class,
            ForgetCommand.class, PruneCommand.class, RepairCommand.class, TierCommand.class, ThawCommand.class,
            CacheCommand.class, KeyCommand.class, DemoCommand.class, ServerCommand.class, AdminCommand.class,
            UpCommand.class, LoginCommand.class, LogoutCommand.class, AgentCommand.class, InventoryCommands.Site.class,
            InventoryCommands.Group.class, InventoryCommands.Repo.class, InventoryCommands.Policy.class,
            WorkloadCommands.Workload.class, WorkloadCommands.Snapshot.class, JobCommands.class, UserCommands.User.class,
            UserCommands.Token.class, PlanCommands.class, RunCommands.Drill.class, RunCommands.Failover.class,
            RunCommands.Failback.class, RunCommands.Runs.class, CommandLine.HelpCommand.class);
    /** Options of the top command that take a value (the command name is the first other word). */
    private static final java.util.Set<String> VALUE_OPTIONS = java.util.Set.of("--repo", "--password-file");

    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    /** Data is in the cold tier: a thaw was started (or is needed); the message says how to resume. */
    public static final int EXIT_COLD = 4;
    public static final int EXIT_PARTIAL = 3;
    /**
     * A command that follows a run or job lost the server for longer than it retries: the run or
     * job goes on, and its outcome is unknown (the message says how to look).
     */
    public static final int EXIT_UNKNOWN = 5;

    @Option(names = "--repo", scope = ScopeType.INHERIT, paramLabel = "LOCATION",
            description = "Repository location: a directory, local:PATH or s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]; default: $HAVEN_REPO.")
    String repo;

    @Option(names = "--password-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "Read the password from FILE; default: $HAVEN_PASSWORD_FILE, $HAVEN_PASSWORD, or a prompt.")
    String passwordFile;

    @Option(names = "--no-cache", scope = ScopeType.INHERIT,
            description = "Do not keep a local copy of a remote repository's metadata (also: HAVEN_NO_CACHE=1).")
    boolean noCache;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print machine-readable JSON.")
    boolean json;

    @Option(names = "--quiet", scope = ScopeType.INHERIT, description = "Print no progress.")
    boolean quiet;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean debug;

    final Env env;

    Main(Env env) {
        this.env = env;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "give a command; see 'haven --help'");
    }

    static {
        // Haven has no Groovy closures in its annotations; without this, picocli's first look
        // for Groovy searches every jar on the class path for a class that is not there
        System.setProperty("picocli.disable.closures", "true");
    }

    /**
     * The commands that take paths of files or of a snapshot's entries: they get arguments that
     * are not valid UTF-8 as their bytes ({@link RawArguments}).
     */
    private static final java.util.Set<Class<?>> RAW_ARGUMENTS = java.util.Set.of(BackupCommand.class, LsCommand.class,
            RestoreCommand.class);

    public static void main(String[] args) {
        Class<?> named = named(args);
        if (named != null && RepoCommand.class.isAssignableFrom(named)) {
            Warmup.start();
        }
        if (named != null && RAW_ARGUMENTS.contains(named)) {
            args = RawArguments.recover(args);
        }
        int code;
        try {
            code = run(Env.fromSystem(System.getenv()), named, args);
        } catch (OutOfMemoryError e) {
            System.err.println("haven: out of memory: raise HAVEN_HEAP (default 256m), e.g. HAVEN_HEAP=1g");
            code = EXIT_FAILURE;
        }
        System.exit(code);
    }

    /** The inherited options that choose and open a repository. */
    static final java.util.List<String> REPOSITORY_OPTIONS = java.util.List.of("--repo", "--password-file", "--no-cache");

    /**
     * Commands that talk to a server ({@link ApiCommand}), and groups of nothing else, never open a
     * repository: their help and their parser leave out the repository's options, which the root
     * command's inheritance gave them; {@code --password-file} stays on the few that send a
     * repository's password to the server ({@link ApiCommand#readsRepositoryPassword()}).
     */
    private static void dropRepositoryOptions(CommandLine cl) {
        for (CommandLine sub : new java.util.LinkedHashSet<>(cl.getSubcommands().values())) {
            dropRepositoryOptions(sub);
            for (String name : unused(sub)) {
                CommandLine.Model.OptionSpec o = sub.getCommandSpec().findOption(name);
                if (o != null) {
                    sub.getCommandSpec().remove(o);
                }
            }
        }
    }

    /** The repository options {@code c} (and, for a group, every one of its commands) does not use. */
    private static java.util.Set<String> unused(CommandLine c) {
        if (c.getCommand() instanceof ApiCommand api) {
            java.util.Set<String> out = new java.util.HashSet<>(REPOSITORY_OPTIONS);
            if (api.readsRepositoryPassword()) {
                out.remove("--password-file");
            }
            return out;
        }
        java.util.List<CommandLine> subs = c.getSubcommands().values().stream().filter(s -> !(s.getCommand() instanceof CommandLine.HelpCommand))
                .toList();
        if (subs.isEmpty()) {
            return java.util.Set.of();
        }
        java.util.Set<String> out = new java.util.HashSet<>(REPOSITORY_OPTIONS);
        subs.forEach(s -> out.retainAll(unused(s)));
        return out;
    }

    /** Runs a command line with an environment; returns the exit code. */
    public static int run(Env env, String... args) {
        return run(env, named(args), args);
    }

    /** {@link #run(Env, String...)} with the subcommand {@link #named} already found. */
    private static int run(Env env, Class<?> named, String... args) {
        Main main = new Main(env);
        CommandLine cl = new CommandLine(main);
        for (Class<?> c : COMMANDS) {
            if (named == null || c == named) {
                cl.addSubcommand(c);
            }
        }
        dropRepositoryOptions(cl);
        cl.setOut(new PrintWriter(env.out(), true));
        cl.setErr(new PrintWriter(env.err(), true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine sub = ex.getCommandLine();
            String hint = "try 'haven " + (sub.getCommandSpec().qualifiedName().replaceFirst("^haven ?", "") + " --help").trim() + "'";
            if (main.json || java.util.Arrays.asList(a).contains("--json")) {
                report(env, true, ErrorCode.USAGE, ex.getMessage() + "; " + hint);
            } else {
                env.err().println("haven: " + ex.getMessage());
                env.err().println(hint);
            }
            return EXIT_FAILURE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            boolean debug = main.debug;
            if (ex instanceof HavenException he) {
                report(env, main.json, he.code(), he.getMessage());
            } else {
                report(env, main.json, ErrorCode.INTERNAL, "internal error: " + ex + " (run with --debug for details)");
            }
            if (debug) {
                ex.printStackTrace(env.err());
            }
            if (ex instanceof FollowReads.OutcomeUnknown) {
                return EXIT_UNKNOWN;
            }
            return ex instanceof HavenException he && he.code() == ErrorCode.COLD ? EXIT_COLD : EXIT_FAILURE;
        });
        return cl.execute(args);
    }

    /** The subcommand the arguments name, or null (none, help, or an unknown word: then all are added). */
    static Class<?> named(String... args) {
        String word = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                return null;
            }
            if (a.startsWith("-")) {
                if (VALUE_OPTIONS.contains(a)) {
                    i++;
                }
                continue;
            }
            word = a;
            break;
        }
        if (word == null) {
            return null;
        }
        for (Class<?> c : COMMANDS) {
            Command cmd = c.getAnnotation(Command.class);
            if (c != CommandLine.HelpCommand.class && (cmd.name().equals(word) || java.util.Arrays.asList(cmd.aliases()).contains(word))) {
                return c;
            }
        }
        return null;
    }

    static void report(Env env, boolean json, ErrorCode code, String message) {
        if (json) {
            env.err().println(Output.toJson(Map.of("error", Map.of("code", code.name().toLowerCase(java.util.Locale.ROOT), "message", message))));
        } else {
            env.err().println("haven: " + message);
        }
    }

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"haven " + version()};
        }
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
