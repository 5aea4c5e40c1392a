"""The risk application: its own hash-chained log, written in reaction to the registry's log."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import ProcessRecorder

from services.risk.domain import ProjectRisk
from shared.eventlog import AuditedApplication
from shared.problems import NotFound


class RiskApplication(AuditedApplication):
    """Risk evaluations and their outcome, per project."""

    name = "risk"
    snapshotting_intervals = {ProjectRisk: 100}

    def construct_recorder(self) -> ProcessRecorder:
        """A process recorder: new events and the registry position they answer commit together."""
        return self.factory.process_recorder()

    def project_risk(self, project_id: UUID) -> ProjectRisk:
        try:
            return self.repository.get(ProjectRisk.create_id(project_id))
        except AggregateNotFoundError as error:
            raise NotFound(f"The risk service has no record of project {project_id} (unknown, or not yet followed from the registry).") from error

    def find_project_risk(self, project_id: UUID) -> ProjectRisk | None:
        try:
            return self.repository.get(ProjectRisk.create_id(project_id))
        except AggregateNotFoundError:
            return None
