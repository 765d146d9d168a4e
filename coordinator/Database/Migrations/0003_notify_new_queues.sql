-- A job with a tag set no job had before creates a queue; waiting daemons on every replica must
-- re-evaluate which queues they serve at once, not at their next periodic refresh.
CREATE FUNCTION provisioner_queues_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('provisioner_queues', NEW.name);
    RETURN NEW;
END;
$$;
CREATE TRIGGER provisioner_queues_created
    AFTER INSERT ON provisioner_queues
    FOR EACH ROW EXECUTE FUNCTION provisioner_queues_notify();
