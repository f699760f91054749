package dev.ltm.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ltm.optim.Checkpoint;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver},
 * driven by Selenium; nothing is downloaded): tick layer boxes and generate, move the T_fast
 * slider, type markup into a prompt, send a bad request, and read what the page shows. Screenshots
 * go to {@code target/screenshots/}. With {@code -Dltm.web.checkpoint=DIR} (and
 * {@code -Dltm.web.baseline=DIR}) the same checks run on a real model instead of the tiny one.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PageBrowserTest {
    static final Path CHROMIUM = firstExisting("/usr/lib/chromium/chromium", "/usr/bin/chromium");
    static final Path CHROMEDRIVER = firstExisting("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @TempDir static Path tmp;
    static LtmServer server;
    static ChromeDriverService service;
    static ChromeDriver driver;
    static WebDriverWait wait;
    static int layers;

    @BeforeAll
    static void openThePageInChromium() throws IOException {
        assumeTrue(CHROMIUM != null && CHROMEDRIVER != null,
                "Chromium or its driver is not installed (apt-get install chromium chromium-driver; .ci/run does): browser tests skipped");
        String real = System.getProperty("ltm.web.checkpoint"), realBaseline = System.getProperty("ltm.web.baseline");
        Checkpoint ltm = real != null ? Checkpoint.load(Path.of(real)) : TinyCheckpoints.train(tmp.resolve("ltm"), 3);
        Checkpoint baseline = real != null ? (realBaseline == null ? null : Checkpoint.load(Path.of(realBaseline)))
                : TinyCheckpoints.train(tmp.resolve("baseline"), 0);
        layers = ltm.config().model().layers();
        server = LtmServer.start(new ServedModel(real != null ? real : "tiny-ltm", ltm),
                baseline == null ? null : new ServedModel(realBaseline != null ? realBaseline : "tiny-baseline", baseline),
                HeldOut.documents(ltm), LtmServer.Options.defaults().at("127.0.0.1", 0).withMaxDocuments(real != null ? 48 : 6));
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withLogFile(tmp.resolve("chromedriver.log").toFile()).build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + Files.createDirectories(tmp.resolve("chromium-profile")), "--window-size=1280,1000");
        driver = new ChromeDriver(service, options);
        wait = new WebDriverWait(driver, Duration.ofSeconds(real != null ? 300 : 60));
        wait.ignoring(StaleElementReferenceException.class);
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void close() {
        if (driver != null) driver.quit();
        if (service != null) service.stop();
        if (server != null) server.close();
    }

    @BeforeEach
    void loadThePage() {
        driver.get(server.uri().toString());
        int boxes = Math.min(layers, LtmServer.MAX_LAYER_BOXES);
        wait.until(d -> d.findElements(By.cssSelector("#layer-boxes input[type=checkbox]")).size() == boxes);
        waitForText("probe-current", "layers kept: ");
    }

    @Test
    @Order(1)
    void generatingWithALayerUncheckedShowsTextAndTheProbeOfThatSet() {
        List<WebElement> boxes = driver.findElements(By.cssSelector("#layer-boxes input[type=checkbox]"));
        assertThat(boxes).allMatch(WebElement::isSelected);
        String allLayers = text("probe-current");
        assertThat(allLayers).startsWith("layers kept: 1-" + layers + " \u2192 NLL/token ");
        assertThat(rows("probe-table")).hasSize(1 << layers).anyMatch(r -> r.startsWith("1-" + layers + " "));

        boxes.getLast().click();
        String kept = "1-" + (layers - 1);
        if (layers == 2) kept = "1";
        String expected = "layers kept: " + kept + " \u2192";
        waitForText("probe-current", expected);
        assertThat(text("probe-current")).isNotEqualTo(allLayers);
        assertThat(driver.findElement(By.cssSelector("#probe-table tr.current td")).getText()).isEqualTo(kept);

        driver.findElement(By.id("generate")).click();
        waitForText("output-meta", "layers kept: " + kept + " \u00b7 z fitted on the prompt");
        assertThat(text("output-text")).isNotEmpty();
        assertThat(text("output-prompt")).isEqualTo(driver.findElement(By.id("prompt")).getDomProperty("value"));
        assertThat(driver.findElement(By.id("error")).isDisplayed()).isFalse();
    }

    @Test
    @Order(2)
    void movingTheSliderGrowsTheBoundTableAndThePlot() {
        WebElement slider = driver.findElement(By.id("tfast"));
        wait.until(d -> rows("bound-table").size() >= 1);
        slider.sendKeys(Keys.END);
        wait.until(d -> rows("bound-table").size() == 8);
        assertThat(text("tfast-value")).isEqualTo("64");
        assertThat(rows("bound-table").getLast()).startsWith("64 ");
        assertThat(driver.findElements(By.cssSelector("#bound-plot circle.point"))).hasSize(8);
        assertThat(driver.findElement(By.cssSelector("#bound-plot circle.current")).getDomAttribute("data-t-fast")).isEqualTo("64");
        assertThat(driver.findElements(By.cssSelector("#bound-plot line.baseline"))).hasSize(1);
        assertThat(driver.findElement(By.cssSelector("#bound-plot polyline.curve")).getDomAttribute("points").split(" ")).hasSize(8);
        waitForText("thinking-meta", "T_fast 64");
        assertThat(text("thinking-output-text")).isNotEmpty();

        slider.sendKeys(Keys.HOME);
        wait.until(d -> rows("bound-table").size() == 1);
        assertThat(rows("bound-table").getFirst()).startsWith("0 ");
        assertThat(driver.findElements(By.cssSelector("#bound-plot circle.point"))).hasSize(1);
        waitForText("thinking-meta", "T_fast 0,");
    }

    @Test
    @Order(3)
    void markupInAPromptShowsAsLiteralText() {
        String markup = "<img src=x onerror=\"document.title='pwned'\"><b id=inj>b</b>";
        WebElement prompt = driver.findElement(By.id("prompt"));
        prompt.clear();
        prompt.sendKeys(markup);
        String title = driver.getTitle();
        driver.findElement(By.id("generate")).click();
        waitForText("output-meta", "z fitted on the prompt");
        assertThat(text("output-prompt")).isEqualTo(markup);
        assertThat(driver.findElements(By.id("inj"))).isEmpty();
        assertThat(driver.findElements(By.cssSelector("#output img"))).isEmpty();
        assertThat(driver.getTitle()).isEqualTo(title);
    }

    @Test
    @Order(4)
    void aBadRequestShowsTheServersErrorLine() {
        WebElement tokens = driver.findElement(By.id("max-tokens"));
        tokens.clear();
        tokens.sendKeys("100000");
        driver.findElement(By.id("generate")).click();
        wait.until(d -> d.findElement(By.id("error")).isDisplayed());
        assertThat(text("error")).startsWith("'maxTokens' is 100000; expected an integer in 0..");
        tokens.clear();
        tokens.sendKeys("5");
        driver.findElement(By.id("generate")).click();
        wait.until(d -> !d.findElement(By.id("error")).isDisplayed());
    }

    @Test
    @Order(5)
    void screenshotsOfBothDemosAreTaken() throws IOException {
        if (layers > 1) driver.findElements(By.cssSelector("#layer-boxes input[type=checkbox]")).getLast().click();
        waitForText("probe-current", "layers kept: " + (layers == 2 ? "1" : "1-" + (layers - 1)) + " \u2192");
        driver.findElement(By.id("generate")).click();
        waitForText("output-meta", "z fitted on the prompt");
        driver.findElement(By.id("tfast")).sendKeys(Keys.END);
        wait.until(d -> rows("bound-table").size() == 8);
        waitForText("thinking-meta", "T_fast 64");
        assertThat(driver.findElement(By.id("error")).isDisplayed()).isFalse();
        JavascriptExecutor js = (JavascriptExecutor) driver;
        long height = (Long) js.executeScript("return document.documentElement.scrollHeight;");
        driver.manage().window().setSize(new Dimension(1280, (int) Math.min(height + 40, 4000)));
        js.executeScript("window.scrollTo(0, 0);");
        byte[] page = driver.getScreenshotAs(OutputType.BYTES);
        Files.write(SCREENSHOTS.resolve("page.png"), page);
        // The two demos without the model card: the window ends where the thinking-time section does.
        long demosEnd = (Long) js.executeScript(
                "return Math.ceil(document.getElementById('thinking-demo').getBoundingClientRect().bottom + 8);");
        js.executeScript("document.documentElement.style.overflow = 'hidden';");
        long chrome = (Long) js.executeScript("return window.outerHeight - window.innerHeight;");
        driver.manage().window().setSize(new Dimension(1280, (int) (demosEnd + chrome)));
        js.executeScript("window.scrollTo(0, 0);");
        Files.write(SCREENSHOTS.resolve("demos.png"), driver.getScreenshotAs(OutputType.BYTES));
        js.executeScript("document.documentElement.style.overflow = '';");
        for (String section : new String[] {"layers-demo", "thinking-demo", "model-card"}) {
            byte[] png = driver.findElement(By.id(section)).getScreenshotAs(OutputType.BYTES);
            Files.write(SCREENSHOTS.resolve(section + ".png"), png);
            assertThat(png).startsWith(0x89, 'P', 'N', 'G');
        }
        assertThat(page).startsWith(0x89, 'P', 'N', 'G');
        driver.manage().window().setSize(new Dimension(1280, 1000));
    }

    private static String text(String id) { return driver.findElement(By.id(id)).getText(); }

    private static void waitForText(String id, String fragment) {
        wait.withMessage(() -> "#" + id + " to contain '" + fragment + "', it holds '" + text(id) + "'; error line: '"
                        + text("error") + "'")
                .until(d -> text(id).contains(fragment));
    }

    /** The rows of a table's body, cells joined by a space, read in one script so that a redraw cannot tear them. */
    @SuppressWarnings("unchecked")
    private static List<String> rows(String table) {
        return (List<String>) ((JavascriptExecutor) driver).executeScript(
                "return [...document.querySelectorAll('#' + arguments[0] + ' tbody tr')]"
                        + ".map(r => [...r.cells].map(c => c.textContent).join(' '));", table);
    }

    private static Path firstExisting(String... paths) {
        for (String p : paths) if (new File(p).canExecute()) return Path.of(p);
        return null;
    }
}
