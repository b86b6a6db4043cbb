# PT Desk — build, run and test.
#
#   make run    installs what the app needs (Debian/Ubuntu), builds, starts it
#   make test   installs what the tests need, runs every test
#
# Everything else here is a helper of those two, or packaging.

SHELL := /bin/bash
GO    ?= go
BIN   := bin

# Debian packages: to build the desktop app (cgo, OpenGL, X11) ...
BUILD_PKGS := gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev \
              libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
# ... and to run the tests: a display, a session bus with a real keyring,
# a real browser, a real PostgreSQL client, screenshots.
TEST_PKGS  := $(BUILD_PKGS) xvfb xauth x11-apps imagemagick dbus gnome-keyring \
              chromium xdotool sqlite3 postgresql-client curl \
              gcc-mingw-w64-x86-64 wine64

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run build test deps-build deps-test deps-windows vet bench screenshots package package-windows clean

run: deps-build build
	./$(BIN)/ptdesk

build:
	$(GO) build -o $(BIN)/ptdesk ./cmd/ptdesk
	CGO_ENABLED=0 $(GO) build -o $(BIN)/ptdeskctl ./cmd/ptdeskctl

# install-missing PKGS: apt-get only what dpkg does not have yet.
define install-missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps-build:
	$(call install-missing,$(BUILD_PKGS))

deps-test:
	$(call install-missing,$(TEST_PKGS))

vet:
	@unformatted=$$("$$($(GO) env GOROOT)/bin/gofmt" -l cmd core ui); if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:" $$unformatted; exit 1; fi
	$(GO) vet ./...
	@if $(GO) list -deps ./core/... | grep -q '^fyne.io/'; then echo "core/ must not depend on fyne.io"; exit 1; fi
	@if $(GO) list -deps ./cmd/ptdeskctl | grep -q '^fyne.io/'; then echo "cmd/ptdeskctl must not link fyne.io"; exit 1; fi

# The tests run inside their own D-Bus session with a fresh, unlocked
# gnome-keyring and a virtual X display, so the real keyring and real
# windows are exercised without touching the developer's own.
test: deps-test vet
	.ci/test-session.sh
	.ci/windows-smoke.sh

bench: deps-test
	$(GO) run ./cmd/ptdeskbench -out docs/benchmarks.md

screenshots: deps-test
	docs/screenshots/capture.sh

# Packages. fyne reads FyneApp.toml from the folder it runs in, so the
# binary is built first and packaged from the top level.
FYNE_TOOL := $(shell $(GO) env GOPATH)/bin/fyne
VERSION   := $(shell sed -n 's/^ *Version = "\(.*\)"/\1/p' FyneApp.toml)

$(FYNE_TOOL):
	$(GO) install fyne.io/tools/cmd/fyne@v1.7.4

package: deps-build $(FYNE_TOOL)
	mkdir -p dist
	$(GO) build -trimpath -ldflags "-s -w" -o dist/ptdesk ./cmd/ptdesk
	$(FYNE_TOOL) package -os linux --exe dist/ptdesk
	mv "PT Desk.tar.xz" dist/ptdesk-$(VERSION)-linux-amd64.tar.xz
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o dist/ptdeskctl ./cmd/ptdeskctl

deps-windows:
	$(call install-missing,gcc-mingw-w64-x86-64)

# Windows: ptdesk.exe with cgo through MinGW (icon and version metadata
# embedded by fyne), ptdeskctl.exe in pure Go.
package-windows: deps-windows $(FYNE_TOOL)
	mkdir -p dist
	cd cmd/ptdesk && CC=x86_64-w64-mingw32-gcc CGO_ENABLED=1 GOOS=windows GOARCH=amd64 \
	  $(FYNE_TOOL) package -os windows --release --name "PT Desk" --app-id com.ptdesk.app \
	  --app-version $(VERSION) --app-build 1 --icon ../../assets/icon.png
	mv "cmd/ptdesk/PT Desk.exe" dist/ptdesk.exe
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o dist/ptdeskctl.exe ./cmd/ptdeskctl

clean:
	rm -rf $(BIN) dist
