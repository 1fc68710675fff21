package dev.specdec.job.decode;

import ai.djl.Device;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Picks the device of a decode slot. {@code auto} uses the GPUs Flink's external-resource framework
 * gives the TaskManager ({@code external-resource.gpu.*}, resource name {@code gpu}, property
 * {@code index}); every slot of a TaskManager sees all of them, so the slot takes the one at
 * {@code subtaskIndex mod count} (run one GPU-bound slot per GPU). Without GPUs, {@code auto} is the
 * CPU. {@code cpu}, {@code gpu} and {@code gpu:N} choose explicitly.
 */
public final class DeviceSelector {
    /** Flink's resource name for GPUs (external-resource.gpu.*). */
    public static final String GPU_RESOURCE = "gpu";

    private DeviceSelector() {
    }

    static void checkName(String name, boolean allowAuto) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        if ((allowAuto && n.equals("auto")) || n.equals("cpu") || n.equals("gpu")) {
            return;
        }
        if (n.startsWith("gpu:")) {
            try {
                if (Integer.parseInt(n.substring(4)) >= 0) {
                    return;
                }
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("unknown device '" + name + "' (use " + (allowAuto ? "auto, " : "")
                + "cpu, gpu or gpu:N)");
    }

    /** The device for a slot, given the configured name and the GPUs Flink assigned to the TaskManager. */
    public static Device select(String configured, Collection<ExternalResourceInfo> gpus, int subtaskIndex) {
        String n = configured.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "cpu":
                return Device.cpu();
            case "gpu":
                return Device.gpu();
            case "auto": {
                List<Integer> indexes = gpuIndexes(gpus);
                return indexes.isEmpty() ? Device.cpu() : Device.gpu(indexes.get(subtaskIndex % indexes.size()));
            }
            default:
                return Device.gpu(Integer.parseInt(n.substring(4)));
        }
    }

    static List<Integer> gpuIndexes(Collection<ExternalResourceInfo> gpus) {
        List<Integer> out = new ArrayList<>();
        for (ExternalResourceInfo info : gpus) {
            Optional<String> index = info.getProperty("index");
            index.ifPresent(i -> out.add(Integer.parseInt(i.trim())));
        }
        out.sort(Integer::compare);
        return out;
    }
}
