# Helpers the scripts share (source it; it defines functions only).

# listening PORT: whether something accepts connections on 127.0.0.1:PORT.
listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_listening PID PORT: waits (10 s at most) until process PID listens on
# 127.0.0.1:PORT; fails if the process exits first or never listens.
wait_listening() {
    for _ in $(seq 200); do
        kill -0 "$1" 2>/dev/null || return 1
        listening "$2" && return 0
        sleep 0.05
    done
    return 1
}
