package dev.ltm.model.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Writes that either complete or leave the previous version untouched: a file is written to a
 * temporary sibling, flushed to disk, then renamed over the target.
 *
 * <p>A checkpoint is a folder of files (weights, config, optimizer and trainer state) that must
 * stay consistent with each other, so renaming each file in turn is not enough: a crash between
 * two renames would pair new weights with old optimizer state. {@link #writeDirectory} therefore
 * builds the whole new folder under {@code <name>.tmp}, and only then swaps it in: the old folder
 * is renamed to {@code <name>.old}, the new one to {@code <name>}, and the old one deleted. At
 * every instant one complete checkpoint exists under {@code <name>} or {@code <name>.old};
 * {@link #recoverDirectory} puts the old one back if a crash fell between the two renames.
 * One writer per target at a time.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * The three steps that make a write durable, in one place so that a test can record their
     * order: force a file's bytes to the device, force a folder's entries, rename atomically.
     * For a power loss (not only a kill) to leave the old or the new version, a file and its folder
     * must be forced before the rename that publishes them, and the parent folder after it.
     */
    interface Disk {
        /** fsync of a regular file. */
        void forceFile(Path file) throws IOException;

        /** fsync of a folder, where the system allows it. */
        void forceDirectory(Path dir);

        /** An atomic rename that replaces {@code to}. */
        void rename(Path from, Path to) throws IOException;
    }

    /** The real disk. */
    static final Disk DISK = new Disk() {
        @Override public void forceFile(Path file) throws IOException {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) { ch.force(true); }
        }

        @Override public void forceDirectory(Path dir) { syncDirectory(dir); }

        @Override public void rename(Path from, Path to) throws IOException { move(from, to); }
    };

    /** The body of a file write: writes the file's bytes to {@code out} (which it must not close). */
    @FunctionalInterface
    public interface FileBody {
        /** Writes the content. */
        void write(OutputStream out) throws IOException;
    }

    /** The body of a folder write: creates the folder's files inside {@code dir}, an empty fresh folder. */
    @FunctionalInterface
    public interface DirectoryBody {
        /** Writes the files. */
        void write(Path dir) throws IOException;
    }

    /**
     * Writes {@code target} atomically: {@code body} writes a temporary file in the same folder,
     * which is forced to disk and renamed over {@code target}. If {@code body} throws, the
     * temporary file is deleted, {@code target} is as before, and the exception propagates
     * (I/O errors as {@link CheckpointException}).
     */
    public static void write(Path target, FileBody body) { write(target, body, DISK); }

    /** {@link #write(Path, FileBody)} through {@code disk}. */
    static void write(Path target, FileBody body, Disk disk) {
        Path dir = parentOf(target);
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream out = Channels.newOutputStream(ch);
                body.write(out);
                out.flush();
            }
            disk.forceFile(tmp);
            disk.rename(tmp, target);
            tmp = null;
            disk.forceDirectory(dir);
        } catch (IOException e) {
            throw new CheckpointException("write " + target + ": " + oneLine(e), e);
        } finally {
            if (tmp != null) deleteQuietly(tmp);
        }
    }

    /** Writes {@code bytes} to {@code target} atomically. */
    public static void writeBytes(Path target, byte[] bytes) {
        write(target, out -> out.write(bytes));
    }

    /** Writes {@code text} as UTF-8 to {@code target} atomically. */
    public static void writeString(Path target, String text) {
        writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Replaces the folder {@code target} by the files {@code body} writes, all or nothing (see the
     * class comment). If {@code body} throws, {@code target} is as before and the partial new
     * folder is deleted.
     */
    public static void writeDirectory(Path target, DirectoryBody body) { writeDirectory(target, body, DISK); }

    /** {@link #writeDirectory(Path, DirectoryBody)} through {@code disk}. */
    static void writeDirectory(Path target, DirectoryBody body, Disk disk) {
        Path parent = parentOf(target);
        Path tmp = sibling(target, ".tmp");
        Path old = sibling(target, ".old");
        boolean done = false;
        try {
            Files.createDirectories(parent);
            recoverDirectory(target);
            deleteRecursively(tmp);
            Files.createDirectory(tmp);
            body.write(tmp);
            try (var files = Files.list(tmp)) {
                for (Path f : files.sorted().toList()) if (Files.isRegularFile(f)) disk.forceFile(f);
            }
            disk.forceDirectory(tmp);
            boolean hadOld = Files.exists(target);
            if (hadOld) disk.rename(target, old);
            disk.rename(tmp, target);
            disk.forceDirectory(parent);
            done = true;
            if (hadOld) deleteRecursively(old);
        } catch (IOException e) {
            throw new CheckpointException("write folder " + target + ": " + oneLine(e), e);
        } finally {
            if (!done) {
                try { deleteRecursively(tmp); } catch (IOException ignored) { /* the error in flight matters more */ }
            }
        }
    }

    /**
     * Finishes or undoes an interrupted {@link #writeDirectory}: if {@code target} is missing but
     * {@code <target>.old} exists, renames it back. Returns whether it did so.
     */
    public static boolean recoverDirectory(Path target) {
        Path old = sibling(target, ".old");
        try {
            if (!Files.exists(target) && Files.isDirectory(old)) {
                move(old, target);
                syncDirectory(parentOf(target));
                return true;
            }
            if (Files.exists(target) && Files.exists(old)) deleteRecursively(old);
            return false;
        } catch (IOException e) {
            throw new CheckpointException("recover folder " + target + ": " + oneLine(e), e);
        }
    }

    private static Path parentOf(Path p) {
        Path parent = p.toAbsolutePath().getParent();
        if (parent == null) throw new CheckpointException("write " + p + ": path has no parent folder");
        return parent;
    }

    private static Path sibling(Path target, String suffix) {
        Path abs = target.toAbsolutePath();
        return abs.resolveSibling(abs.getFileName() + suffix);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system cannot rename " + from + " to " + to + " atomically", e);
        }
    }

    // Making a rename durable needs the folder itself forced; Linux allows it, some systems refuse it.
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Not supported here (e.g. Windows): the rename itself is still atomic.
        }
    }

    private static void deleteQuietly(Path p) {
        try { Files.deleteIfExists(p); } catch (IOException ignored) { /* best effort cleanup of a temp file */ }
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }
            @Override public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) throw exc;
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static String oneLine(Throwable e) {
        String msg = e instanceof NoSuchFileException ? "no such file " + e.getMessage() : e.getMessage();
        if (msg == null) msg = e.getClass().getSimpleName();
        return msg.replace('\n', ' ').replace('\r', ' ');
    }
}
