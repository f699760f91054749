package dev.ltm.spark;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.apache.spark.sql.SparkSession;

/**
 * Starts the Spark session of an {@code ltm} command. The master is {@code --master} when given, else the one
 * {@code spark-submit} set ({@code spark.master}), else {@code local[*]}. A standalone master that does not answer
 * is a one-line error within seconds, not Spark's minute of registration retries.
 */
public final class LtmSpark {
    private LtmSpark() {}

    /** How long to wait for a standalone master's port before calling it unreachable. */
    static final int CONNECT_TIMEOUT_MS = 3000;

    /** The master to use: {@code option} when given, else spark-submit's, else {@code local[*]}. */
    public static String master(String option) {
        if (option != null && !option.isBlank()) return option.strip();
        String submitted = System.getProperty("spark.master");
        return submitted != null && !submitted.isBlank() ? submitted : "local[*]";
    }

    /**
     * A session on {@code master} (see {@link #master}) named {@code app}, or an {@link IllegalArgumentException}
     * with one line when the master is malformed or a standalone master does not answer.
     */
    public static SparkSession session(String master, String app) {
        String m = master(master);
        if (m.startsWith("spark://")) requireReachable(m);
        else if (!m.startsWith("local") && !m.startsWith("yarn") && !m.startsWith("k8s://")) {
            throw new IllegalArgumentException("--master '" + m + "': expected local[N], local[*], spark://HOST:PORT, yarn or k8s://...");
        }
        SparkSession.Builder b = SparkSession.builder().master(m).appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                // Standalone: give up quickly on a master that accepted the connection but never registers us.
                .config("spark.network.timeout", "60s");
        if (m.startsWith("local")) b.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1");
        try {
            SparkSession s = b.getOrCreate();
            s.sparkContext().setLogLevel("WARN");
            return s;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--master " + m + ": Spark did not start: " + oneLine(e), e);
        }
    }

    /** Every host:port of a {@code spark://h1:p1,h2:p2} URL is tried; none answering is a one-line error. */
    static void requireReachable(String master) {
        String hosts = master.substring("spark://".length());
        String last = "";
        for (String hp : hosts.split(",")) {
            int colon = hp.lastIndexOf(':');
            String host = colon < 0 ? hp : hp.substring(0, colon);
            int port;
            try {
                port = colon < 0 ? 7077 : Integer.parseInt(hp.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--master " + master + ": '" + hp + "' is not HOST:PORT");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
                return;
            } catch (IOException | IllegalArgumentException e) {
                last = host + ":" + port + " (" + oneLine(e) + ")";
            }
        }
        throw new IllegalArgumentException("--master " + master + ": no Spark master answers at " + last);
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
