import Foundation

/// The instance's user data: it installs the converge script and runs it at boot. The script reads
/// the OpenClaw version, model, gateway port and token from the deployment's SSM parameters and
/// makes the instance match them; reclaw runs it again through SSM Run Command whenever they
/// change, so no configuration change ever replaces the instance. It never changes after launch.
public enum UserData {
    public static let convergePath = "/usr/local/sbin/openclaw-converge"

    public static func script(deployment: String, region: String) -> String {
        """
        #!/bin/bash
        # reclaw bootstrap for OpenClaw deployment \(deployment) (\(region)).
        set -euo pipefail
        install -d -m 0755 /usr/local/sbin
        cat > \(convergePath) <<'CONVERGE'
        #!/bin/bash
        # Converges this instance to the OpenClaw settings in SSM under /openclaw/\(deployment)/.
        # Run at boot and by reclaw through SSM Run Command. Never prints the gateway token.
        set -euo pipefail
        exec 9>/run/openclaw-converge.lock
        flock 9
        exec >>/var/log/openclaw-converge.log 2>&1
        echo "== converge $(date -u +%FT%TZ)"
        DEPLOYMENT="\(deployment)"
        REGION="\(region)"
        export DEBIAN_FRONTEND=noninteractive AWS_REGION="$REGION"
        command -v aws >/dev/null || snap install aws-cli --classic
        command -v node >/dev/null || { curl -fsSL https://deb.nodesource.com/setup_22.x | bash - && apt-get install -y nodejs; }
        param() { aws ssm get-parameter --region "$REGION" --name "/openclaw/$DEPLOYMENT/$1" --with-decryption --query Parameter.Value --output text; }
        VERSION="$(param version)"
        MODEL="$(param model)"
        PORT="$(param gateway-port)"
        TOKEN="$(param gateway-token)"
        id openclaw >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/openclaw --shell /usr/sbin/nologin openclaw
        INSTALLED="$(npm ls -g --depth=0 --json 2>/dev/null | sed -n 's/.*"openclaw": *{ *"version": *"\\([^"]*\\)".*/\\1/p')"
        if [ "$INSTALLED" != "$VERSION" ]; then
          npm install -g "openclaw@$VERSION"
        fi
        install -d -o openclaw -g openclaw -m 0700 /var/lib/openclaw/.openclaw
        umask 077
        cat > /var/lib/openclaw/.openclaw/openclaw.json.new <<JSON
        {
          "gateway": {"mode": "local", "bind": "loopback", "host": "127.0.0.1", "port": $PORT, "auth": {"mode": "token", "token": "$TOKEN"}},
          "models": {"providers": {"amazon-bedrock": {"baseUrl": "https://bedrock-runtime.$REGION.amazonaws.com", "api": "bedrock-converse-stream",
            "auth": "aws-sdk", "models": [{"id": "$MODEL", "name": "Bedrock model"}]}}},
          "agents": {"defaults": {"model": {"primary": "amazon-bedrock/$MODEL"}}}
        }
        JSON
        chown openclaw:openclaw /var/lib/openclaw/.openclaw/openclaw.json.new
        mv /var/lib/openclaw/.openclaw/openclaw.json.new /var/lib/openclaw/.openclaw/openclaw.json
        cat > /etc/systemd/system/openclaw-gateway.service <<UNIT
        [Unit]
        Description=OpenClaw gateway (\(deployment))
        After=network-online.target
        [Service]
        User=openclaw
        Environment=HOME=/var/lib/openclaw AWS_REGION=$REGION
        ExecStart=/usr/bin/env openclaw gateway --port $PORT
        Restart=always
        NoNewPrivileges=yes
        ProtectSystem=strict
        ReadWritePaths=/var/lib/openclaw
        [Install]
        WantedBy=multi-user.target
        UNIT
        systemctl daemon-reload
        systemctl enable openclaw-gateway.service
        systemctl restart openclaw-gateway.service
        echo "converged to openclaw $VERSION, model $MODEL, port $PORT"
        CONVERGE
        chmod 0755 \(convergePath)
        cat > /etc/systemd/system/openclaw-converge.service <<'UNIT'
        [Unit]
        Description=Converge OpenClaw to its SSM parameters
        After=network-online.target snap.amazon-ssm-agent.amazon-ssm-agent.service
        Wants=network-online.target
        [Service]
        Type=oneshot
        ExecStart=\(convergePath)
        [Install]
        WantedBy=multi-user.target
        UNIT
        systemctl daemon-reload
        systemctl enable --now openclaw-converge.service
        """
    }

    /// Base64, as RunInstances takes it.
    public static func encoded(deployment: String, region: String) -> String {
        Data(script(deployment: deployment, region: region).utf8).base64EncodedString()
    }
}
