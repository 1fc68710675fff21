package dev.specdec.job.cluster;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.HTTPServer;
import org.apache.flink.metrics.prometheus.AbstractPrometheusReporter;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.util.PortRange;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.Properties;

/**
 * Flink's Prometheus reporter, listening on 127.0.0.1 instead of every interface (Flink's own
 * binds the wildcard address and has no host setting). Configured as
 * {@code metrics.reporter.prom.factory.class} with {@code metrics.reporter.prom.port} (a port or
 * range; the first free one is taken).
 */
public final class LoopbackPrometheusReporterFactory implements MetricReporterFactory {
    @Override
    public MetricReporter createMetricReporter(Properties properties) {
        return new Reporter(new PortRange(properties.getProperty("port", "9249")));
    }

    static final class Reporter extends AbstractPrometheusReporter {
        private final HTTPServer server;

        Reporter(PortRange ports) {
            CollectorRegistry registry = registry();
            HTTPServer started = null;
            for (Iterator<Integer> it = ports.getPortsIterator(); it.hasNext() && started == null; ) {
                int port = it.next();
                try {
                    started = new HTTPServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), registry, true);
                    log.info("Prometheus metrics on http://127.0.0.1:{}/metrics", port);
                } catch (IOException taken) {
                    log.debug("port {} is taken", port);
                }
            }
            if (started == null) {
                throw new IllegalStateException("no free port for the Prometheus endpoint in " + ports);
            }
            server = started;
        }

        /** The registry the base class fills (kept package-private there, so read it reflectively). */
        private CollectorRegistry registry() {
            try {
                Field f = AbstractPrometheusReporter.class.getDeclaredField("registry");
                f.setAccessible(true);
                return (CollectorRegistry) f.get(this);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("this Flink's Prometheus reporter has no registry field", e);
            }
        }

        @Override
        public void close() {
            server.stop();
            super.close();
        }
    }
}
