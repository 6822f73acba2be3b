package io.haven.cli;

import io.haven.core.ErrorCode;
import io.haven.core.HavenException;
import io.haven.server.db.DatabaseConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a server keeps its state: {@code --data} and {@code --db}, shared by {@code server} and {@code admin}. */
final class ServerOptions {
    @Option(names = "--data", paramLabel = "DIR",
            description = "The server's data directory (certificates, embedded database); default: $HAVEN_DATA, else ~/.local/share/haven/server.")
    String data;

    @Option(names = "--db", paramLabel = "JDBC_URL",
            description = "A PostgreSQL JDBC URL (jdbc:postgresql://HOST/DB) instead of the embedded SQLite database (DIR/db/haven.db); default: $HAVEN_DB_URL. "
                    + "User and password from $HAVEN_DB_USER and $HAVEN_DB_PASSWORD (or the URL).")
    String db;

    Path dataDir(Env env) {
        String d = data != null ? data : env.get("HAVEN_DATA");
        if (d == null) {
            String home = env.get("HOME");
            if (home == null) {
                throw new HavenException(ErrorCode.USAGE, "no data directory: use --data DIR or set HAVEN_DATA");
            }
            d = home + "/.local/share/haven/server";
        }
        return env.resolve(d);
    }

    DatabaseConfig database(Env env, Path dataDir) {
        String url = db != null ? db : env.get("HAVEN_DB_URL");
        if (url == null) {
            return DatabaseConfig.embedded(dataDir);
        }
        if (!url.startsWith("jdbc:postgresql:") && !url.startsWith("jdbc:sqlite:")) {
            throw new HavenException(ErrorCode.USAGE, "--db takes a PostgreSQL JDBC URL (jdbc:postgresql://HOST[:PORT]/DB), not '"
                    + new DatabaseConfig(url, null, null).display() + "'");
        }
        return new DatabaseConfig(url, env.get("HAVEN_DB_USER"), env.get("HAVEN_DB_PASSWORD"));
    }
}
