package dev.specdec.engine.cli;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Draws the benchmark's grouped bar chart (beta and gamma per method) as a PNG, headless. */
final class BenchChart {
    record Bar(String label, double beta, double gamma) {
    }

    private BenchChart() {
    }

    /** A white image with the title on top; drawing goes on in the returned graphics. */
    private static Graphics2D canvas(BufferedImage img, String title) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, 20, 28);
        return g;
    }

    static void write(Path file, String title, List<Bar> bars) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int w = Math.max(640, 140 * bars.size() + 160);
        int h = 420;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img, title);
        double max = 1;
        for (Bar b : bars) {
            max = Math.max(max, Math.max(b.beta(), b.gamma()));
        }
        max = Math.ceil(max);
        int left = 70;
        int top = 50;
        int bottom = h - 60;
        int plotH = bottom - top;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setStroke(new BasicStroke(1));
        for (int i = 0; i <= max; i++) {
            int y = bottom - (int) (plotH * i / max);
            g.setColor(new Color(225, 225, 225));
            g.drawLine(left, y, w - 20, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(Integer.toString(i), left - 25, y + 4);
        }
        Color betaColor = new Color(52, 101, 164);
        Color gammaColor = new Color(230, 145, 56);
        int group = (w - left - 40) / Math.max(1, bars.size());
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            int x = left + 20 + i * group;
            int bw = Math.max(12, group / 3);
            drawBar(g, x, bottom, bw, (int) (plotH * b.beta() / max), betaColor, String.format(Locale.ROOT, "%.2f", b.beta()));
            drawBar(g, x + bw + 4, bottom, bw, (int) (plotH * b.gamma() / max), gammaColor,
                    String.format(Locale.ROOT, "%.2fx", b.gamma()));
            g.setColor(Color.BLACK);
            g.drawString(b.label(), x, bottom + 18);
        }
        g.setColor(betaColor);
        g.fillRect(w - 230, 40, 12, 12);
        g.setColor(Color.BLACK);
        g.drawString("beta: tokens per step", w - 212, 51);
        g.setColor(gammaColor);
        g.fillRect(w - 230, 58, 12, 12);
        g.setColor(Color.BLACK);
        g.drawString("gamma: speedup vs plain", w - 212, 69);
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    /**
     * A heat map of gamma per method (rows) and cell (columns), red below 1 (slower than plain
     * decoding), green above, each square labelled with gamma and beta.
     */
    static void writeMatrix(Path file, String title, List<String> methods, List<String> cells, double[][] gamma,
                            double[][] beta) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int cellW = 96;
        int cellH = 40;
        int left = 170;
        int top = 70;
        int w = left + cellW * cells.size() + 30;
        int h = top + cellH * methods.size() + 40;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img, title);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int j = 0; j < cells.size(); j++) {
            g.drawString(cells.get(j), left + j * cellW + 8, top - 10);
        }
        for (int i = 0; i < methods.size(); i++) {
            g.setColor(Color.BLACK);
            g.drawString(methods.get(i), 20, top + i * cellH + cellH / 2 + 5);
            for (int j = 0; j < cells.size(); j++) {
                double v = gamma[i][j];
                double t = Math.max(-1, Math.min(1, Math.log(v) / Math.log(3)));
                Color c = t >= 0 ? new Color((int) (255 - 150 * t), 235, (int) (255 - 150 * t))
                        : new Color(240, (int) (235 + 200 * t), (int) (235 + 200 * t));
                g.setColor(c);
                g.fillRect(left + j * cellW, top + i * cellH, cellW - 4, cellH - 4);
                g.setColor(Color.BLACK);
                g.drawString(String.format(Locale.ROOT, "%.2fx (%.2f)", v, beta[i][j]), left + j * cellW + 6,
                        top + i * cellH + cellH / 2 + 3);
            }
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static void drawBar(Graphics2D g, int x, int bottom, int width, int height, Color c, String label) {
        g.setColor(c);
        g.fillRect(x, bottom - height, width, height);
        g.setColor(Color.BLACK);
        g.drawString(label, x, bottom - height - 4);
    }
}
